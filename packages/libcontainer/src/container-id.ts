import { ContainerError } from "./container-error.js";

// runc 1.1's rule, `^[\w+-\.]+$`: in that class `+-\.` is the range '+'..'.', so ',' is allowed too. "." and ".."
// are refused, so an id can never name a path outside the state root (`../x`, `a/b`). runc sets no length limit
// and fails later on the file system; anything over NAME_MAX (255) could never be a state directory, so it is
// refused up front with the same words.
const ID = /^[\w+,.-]+$/;
const NAME_MAX = 255;

export function validateId(id: string): void {
  if (!id) throw new ContainerError("container id cannot be empty");
  if (id.length > NAME_MAX || !ID.test(id) || id === "." || id === "..")
    throw new ContainerError("invalid container ID format");
}
