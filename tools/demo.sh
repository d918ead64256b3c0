#!/usr/bin/env bash
# The demo: an interactive busybox shell in a container, in a new terminal, in the foreground (exit the shell to
# leave). Needs root and a built workspace (pnpm build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tsrun="$here/packages/cli/bin/tsrun"
[ -x "$tsrun" ] || { echo "demo: $tsrun is missing: run pnpm build first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: tsrun needs root" >&2; exit 1; }
[ -t 0 ] || { echo "demo: run this from a terminal (the container gets a new one)" >&2; exit 1; }
bundle=${TSRUN_DEMO_BUNDLE:-/tmp/tsrun-demo}
if [ ! -x "$bundle/rootfs/bin/sh" ]; then
  rm -rf "$bundle"
  bash "$here/tools/rootfs/make-rootfs.sh" "$bundle/rootfs"
fi
rm -f "$bundle/config.json"
(cd "$bundle" && "$tsrun" spec)
# tsrun spec writes runc's default: terminal true, args ["sh"]; give the shell a friendlier prompt and name.
sed -i 's/"TERM=xterm"/"TERM=xterm", "PS1=\\\\u@\\\\h:\\\\w# "/; s/"hostname": "runc"/"hostname": "tsrun-demo"/' "$bundle/config.json"
echo "tsrun demo: a busybox shell in a new container; type 'exit' to leave." >&2
exec "$tsrun" --root "$bundle/state" run --bundle "$bundle" "demo-$$"
