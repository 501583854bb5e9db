#!/bin/sh
# Runs each fuzz/fuzz_*.c (libFuzzer) for SECONDS (default 60) against the clang +
# ASan/UBSan library that `make fuzz` builds in $FUZZ_BUILD, starting from the seed corpus
# fuzz/corpus/<name>/. New inputs go to a scratch copy, so the committed corpus only
# changes by hand. Exits non-zero on any finding (crash, leak, UB, timeout, OOM).
# FUZZ_TARGETS="fuzz/fuzz_y4m.c ..." picks targets; FUZZ_TIMEOUT (default 10) is the
# per-input limit in seconds (raise it on a loaded machine: it is wall-clock time).
set -eu
secs=${1:-60}
out=${FUZZ_BUILD:-build/fuzz}
status=0
for target in ${FUZZ_TARGETS:-$(ls fuzz/fuzz_*.c)}; do
  name=$(basename "$target" .c); name=${name#fuzz_}
  bin="$out/fuzz_$name"
  clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Iinclude -I. \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined "$target" "$out/libferc.a" -lm -o "$bin"
  work="$out/corpus_$name"
  rm -rf "$work"; mkdir -p "$work"
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
  echo "== fuzz $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 \
       -artifact_prefix="$out/crash_${name}_" "$work" > "$out/fuzz_$name.log" 2>&1; then
    status=1; echo "FINDING in $name: see $out/fuzz_$name.log"; tail -30 "$out/fuzz_$name.log"
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|Done [0-9]+ runs" "$out/fuzz_$name.log" || true
done
exit $status
