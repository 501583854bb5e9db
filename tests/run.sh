#!/bin/sh
# Runs each test binary once per kernel path this CPU can execute (FERC_ISA), so the scalar
# and AVX2 paths are tested even on an AVX-512 machine. FERC_VALGRIND=1 runs them under
# valgrind instead (one ISA: valgrind does not emulate AVX-512). FERC_TEST_ISAS="avx2"
# runs only the paths named (make tsan: one path, as TSan is slow).
set -u
isas="scalar"
grep -q ' avx2 ' /proc/cpuinfo 2>/dev/null && grep -q ' fma ' /proc/cpuinfo && isas="$isas avx2"
grep -q ' avx512bw ' /proc/cpuinfo 2>/dev/null && isas="$isas avx512"
isas=${FERC_TEST_ISAS:-$isas}
passed=0 failed=0
for t in "$@"; do
  if [ "${FERC_VALGRIND:-0}" = 1 ]; then
    if FERC_ISA=avx2 CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full --suppressions="$(dirname "$0")/valgrind.supp" "$t"; then
      passed=$((passed+1)); else failed=$((failed+1)); echo "FAILED: valgrind $t"; fi
    continue
  fi
  for isa in $isas; do
    echo "== $t [FERC_ISA=$isa]"
    if FERC_ISA=$isa "$t"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAILED: $t [$isa]"; fi
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
