import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContainerError } from "./container-error.js";
import { validateId } from "./container-id.js";

// runc 1.1's check, transcribed: Go's `^[\w+-\.]+$` (`+-\.` is the range '+'..'.') and "/"+id unchanged by
// filepath.Clean, which only "." and ".." fail for ids made of these characters.
const runcAccepts = (id: string) => /^[0-9A-Za-z_+,\-.]+$/.test(id) && id !== "." && id !== "..";

const verdict = (id: string): string => {
  try {
    validateId(id);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(ContainerError);
    return (e as Error).message;
  }
};

describe("validateId", () => {
  it("accepts what runc 1.1.5 accepts (checked against the binary)", () => {
    for (const id of ["a,b", ".x", "a..b", "+-.", "..."]) expect(verdict(id)).toBe("ok");
    for (const id of ["a b", "..", ".", "x/y", "ä", "a:b", "../x", "a\nb"])
      expect(verdict(id)).toBe("invalid container ID format");
    expect(verdict("")).toBe("container id cannot be empty");
  });

  it("refuses ids longer than a file name can be", () => {
    expect(verdict("a".repeat(255))).toBe("ok");
    expect(verdict("a".repeat(256))).toBe("invalid container ID format");
  });

  it("agrees with runc's regex on arbitrary strings", () => {
    const chars = fc.constantFrom(..."aZ09_+,-./ :\\\u00e4\n\0*".split(""));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: chars, maxLength: 8 }), fc.string({ maxLength: 8 })), (id) => {
        const v = verdict(id);
        if (id === "") expect(v).toBe("container id cannot be empty");
        else expect(v === "ok").toBe(runcAccepts(id));
      }),
      { numRuns: 500 },
    );
  });
});
