import { ContainerError } from "./container-error.js";

// runc's rule: letters, digits, '_', '+', '-', '.'; not "." or "..", so an id can never name a path outside the
// state root (`../x`, `a/b`).
const ID = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!id) throw new ContainerError("container id cannot be empty");
  if (id.length > 1024 || !ID.test(id) || id === "." || id === "..")
    throw new ContainerError("invalid container ID format");
}
