/**
 * A lifecycle failure, worded as runc words it, because clients match on the text: containerd maps
 * "does not exist" to "no such container" and "container not running" to "already finished"; podman maps
 * "no such file or directory" and "executable file not found in" to exit 127.
 */
export class ContainerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ContainerError";
  }
}

export const notExist = () => new ContainerError("container does not exist");
