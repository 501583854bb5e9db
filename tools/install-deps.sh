#!/bin/sh
# Installs the Debian packages ferc needs; does nothing when they are all present.
#   tools/install-deps.sh               build, test, fuzz and valgrind (what `make test` needs;
#                                       ferc serve's libmicrohttpd included)
#   tools/install-deps.sh --browser     also Chromium and Selenium (make test-browser)
#   tools/install-deps.sh --tools       also the Python stack of tools/ and bench/
#                                       (PyTorch, OpenCV, scikit-image, scikit-learn, OpenBLAS;
#                                       wrk for bench/serve_load.py; pip, setuptools, venv, Dask
#                                       for python/)
#   tools/install-deps.sh --check-only  exit 1 if a build/test package is missing
set -eu
pkgs="gcc make pkg-config libc6-dev check libstb-dev clang libclang-rt-14-dev libomp-dev valgrind opencv-data
      libmicrohttpd-dev xxd python3 python3-numpy python3-pytest"
case "${1:-}" in
  --browser) pkgs="$pkgs chromium chromium-driver python3-selenium" ;;
  --tools) pkgs="$pkgs python3 python3-numpy python3-torch python3-opencv python3-onnx python3-h5py python3-pytest python3-skimage
                 python3-sklearn python3-pil libopenblas-dev ffmpeg wrk python3-pip python3-setuptools python3-venv
                 python3-distributed gnome-backgrounds" ;;
esac
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
