#!/usr/bin/python3
# Calls containerd's Tasks.Update, which ctr 1.6 has no command for, with a generic unary gRPC call and a
# hand-encoded request, so that no generated stubs are needed (Debian's python3-grpcio is enough).
# Usage: task-update.py SOCKET NAMESPACE ID RESOURCES_JSON
# RESOURCES_JSON is a runtime-spec LinuxResources, e.g. '{"memory":{"limit":67108864},"pids":{"limit":20}}'.
# containerd's typeurl carries that Go type (not a protobuf message) as JSON inside a google.protobuf.Any.
import sys

import grpc

TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(num << 3 | 2) + varint(len(data)) + data


def main() -> int:
    sock, ns, cid, resources = sys.argv[1:5]
    # google.protobuf.Any { 1: type_url, 2: value }
    any_msg = field(1, TYPE_URL.encode()) + field(2, resources.encode())
    # containerd.services.tasks.v1.UpdateTaskRequest { 1: container_id, 2: resources }
    request = field(1, cid.encode()) + field(2, any_msg)
    with grpc.insecure_channel(f"unix://{sock}") as channel:
        update = channel.unary_unary(
            "/containerd.services.tasks.v1.Tasks/Update",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        try:
            update(request, metadata=[("containerd-namespace", ns)], timeout=30)
        except grpc.RpcError as e:
            print(f"task-update: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
