#!/usr/bin/env bash
# Runs the end-to-end suite: real containerd 1.6 (runc v2 shim) and podman 4.3 + conmon driving the runtime under
# test. Usage: tests/e2e/run.sh [vitest args...]
#   TSRUN_TEST_RUNTIME=/usr/sbin/runc tests/e2e/run.sh    # guard run: runc must pass every case
#   tests/e2e/run.sh                                       # tsrun (packages/cli/bin/tsrun, build it first)
# Needs root. Installs containerd, podman and conmon from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
need=()
for p in containerd podman conmon runc crun busybox-static python3 python3-grpcio tar; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${need[@]}" || { apt-get update && apt-get install -y "${need[@]}"; }
fi
# Debian's containerd package may start a system containerd; the suite runs its own and never touches that one.
runtime=${TSRUN_TEST_RUNTIME:-$PWD/packages/cli/bin/tsrun}
[ -x "$runtime" ] || { echo "run.sh: runtime $runtime is not executable (build with: npx -y pnpm@12.4.2 build)" >&2; exit 1; }
echo "e2e: runtime under test: $runtime"
[ $# -gt 0 ] || set -- tests/e2e
TSRUN_E2E=1 exec npx vitest run --project root "$@"
