import { describe, expect, it } from "vitest";
import { jsonErrorMessage, jsonErrorOffset } from "./json-error.js";

const parseError = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonErrorMessage(text, (e as Error).message);
  }
  return "ok";
};

describe("jsonErrorOffset", () => {
  it.each([
    ['{"a": [1, {"b": null}], "c": "\\u00e9\\n", "d": -1.5e3, "e": true}', -1],
    ["  [] ", -1],
    ["", 0],
    ['{"a": }', 6],
    ["[1,]", 3],
    ['{"a" 1}', 5],
    ['{"a":1', 6],
    ['{"a":"\\x"}', 7],
    ['{"a":1} x', 8],
    ["{'a':1}", 1],
    ["01", 1],
  ])("%j -> %i", (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});

describe("jsonErrorMessage", () => {
  it("names line, column and V8's reason in lower case", () => {
    expect(parseError('{\n  "ociVersion": "1.2.0",\n  "root": }')).toBe(
      "invalid json at line 3 column 11: unexpected token '}'",
    );
    expect(parseError('{"a":1')).toBe(
      "invalid json at line 1 column 7: expected ',' or '}' after property value",
    );
    expect(parseError("")).toBe("invalid json at line 1 column 1: unexpected end of input");
  });
});
