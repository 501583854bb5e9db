#!/bin/sh
# Installs the Debian packages ferc needs to build, test and run its tools. Does nothing
# when they are all present. --check-only: exit 1 if something is missing, install nothing.
set -eu
pkgs="gcc make pkg-config libc6-dev check libstb-dev libopenblas-dev clang libclang-rt-14-dev valgrind
python3 python3-numpy python3-torch python3-opencv python3-skimage python3-sklearn opencv-data"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
[ "${1:-}" = "--check-only" ] && { echo "missing:$missing"; exit 1; }
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
