#!/usr/bin/env bash
# Builds a minimal busybox root filesystem from Debian's busybox-static.
# Usage: make-rootfs.sh DEST   (DEST/bin/sh etc. are created; DEST must be empty or absent)
set -euo pipefail
dest=${1:?usage: make-rootfs.sh DEST}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-rootfs: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q dynamic && { echo "make-rootfs: $busybox is not static" >&2; exit 1; }
mkdir -p "$dest"
cd "$dest"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home/user run var/tmp
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $("$busybox" --list-full); do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
user:x:1000:
nogroup:x:65534:
G
chown 1000:1000 home/user
echo tsrun-test > etc/hostname
