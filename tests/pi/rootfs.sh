#!/bin/sh
# Build (or reuse) a Debian bookworm root filesystem for one Raspberry Pi architecture.
#   tests/pi/rootfs.sh arm64|armhf [CACHE_DIR]
# arm64: python3-numpy python3-numba python3-pil   (what `apt install` gives a 64-bit Pi OS user)
# armhf: python3-numpy python3-pil                  (32-bit Pi OS: NumPy only, no Numba)
# Needs root, debootstrap, qemu-user-static and binfmt-support on the host.
set -eu
ARCH=$1
CACHE=${2:-${TINYINFER_PI_CACHE:-/var/cache/tinyinfer-pi}}
MIRROR=${TINYINFER_PI_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
case $ARCH in
  arm64) PKGS=python3-numpy,python3-numba,python3-pil ;;
  armhf) PKGS=python3-numpy,python3-pil ;;
  *) echo "usage: $0 arm64|armhf [CACHE_DIR]" >&2; exit 2 ;;
esac
ROOT=$CACHE/bookworm-$ARCH
if [ -f "$ROOT/.tinyinfer-ready" ]; then
  echo "rootfs $ROOT: reused"; exit 0
fi
mkdir -p "$CACHE"
rm -rf "$ROOT"
echo "rootfs $ROOT: debootstrap $ARCH from $MIRROR (several minutes under emulation)"
debootstrap --arch="$ARCH" --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR"
touch "$ROOT/.tinyinfer-ready"
echo "rootfs $ROOT: ready"
