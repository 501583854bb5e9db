#!/bin/sh
# pytest of the Python package (tests/python) against $FERC_BUILD/libferc.so and the command.
# Under `make asan` the library is instrumented: Python runs with libasan preloaded (leak
# checking off: the interpreter's own allocations at exit are not ferc's).
set -u
cd "$(dirname "$0")/../.."
py=/usr/bin/python3
if ! $py -c 'import numpy, pytest' 2>/dev/null; then
  echo "tests/python: skipped: /usr/bin/python3 lacks numpy or pytest (apt-get install python3-numpy python3-pytest)"
  exit 0
fi
build=${FERC_BUILD:-build}
if nm -D "$build/libferc.so" 2>/dev/null | grep -q __asan_init; then
  export LD_PRELOAD="$(${CC:-gcc} -print-file-name=libasan.so) $(${CC:-gcc} -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=detect_leaks=0 FERC_ASAN=1
fi
FERC_BUILD=$build exec $py -m pytest -q -p no:cacheprovider tests/python
