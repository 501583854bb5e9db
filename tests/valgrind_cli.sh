#!/bin/sh
# The ferc command under valgrind (memcheck, full leak check) on every kind of fixture: a
# photo through the SSD and the default CNN with --annotate, a photo through the LBP cascade,
# a folder of faces, the bad-image folder (error paths), standard input, a video without and
# with detection (--summary, --plot), eval on the ten-face folder. Any error or leak fails.
# FERC_ISA=avx2: valgrind does not emulate AVX-512. valgrind runs ~50x slower, so the inputs
# are the small fixtures and the SSD runs at 150x150 (the same code as at 300x300); the video
# with detection is 4 frames of 160x120 (made with ffmpeg; skipped without it).
#   sh tests/valgrind_cli.sh [./ferc]            (make valgrind-cli)
set -u
ferc=${1:-./ferc}
dir=$(mktemp -d /tmp/ferc_valgrind_cli_XXXXXX)
trap 'rm -rf "$dir"' EXIT
supp="$(dirname "$0")/valgrind.supp"
W="--model weights/emotion_cnn.ferc --detector-model weights/face_res10.ferc"
T="--model tests/cli/emotion_tiny.ferc"
passed=0 failed=0
vg() { # expected exit status, then ferc's arguments (word-split)
  want=$1; shift
  echo "== valgrind ferc $*"
  FERC_ISA=avx2 valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --suppressions="$supp" "$ferc" "$@" \
    > "$dir/out" 2> "$dir/err"
  rc=$?
  if [ "$rc" -eq "$want" ] && ! grep -q '^==[0-9]*==' "$dir/err"; then
    passed=$((passed + 1)); echo "   ok (exit $rc, $(wc -l < "$dir/out") output lines)"
  else
    failed=$((failed + 1)); echo "FAILED: exit $rc (expected $want)"; cat "$dir/err" | head -40
  fi
}
vg 0 $W --ssd-size 150 --threads 2 --annotate "$dir/ann" tests/data/astronaut_face.png tests/cli/scene.png
vg 0 $W --detector lbp --detector-model /usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml \
  --format text tests/data/astronaut_face.png
vg 0 $W --no-detect --tta --threads 2 tests/cli/fer
vg 1 $T --no-detect tests/cli/bad tests/data/bad/empty.ferc no/such.png
vg 0 $T --no-detect - < tests/cli/fer/happy/0.png
vg 0 video $T --no-detect --summary --plot "$dir/plot.svg" tests/cli/clip420.y4m
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -loop 1 -framerate 4 -i tests/data/astronaut.jpg -vf "crop=320:240:'100+60*sin(t)':20,scale=160:120" \
    -frames:v 4 -pix_fmt yuv420p -f yuv4mpegpipe "$dir/clip.y4m"
  vg 0 video $W --ssd-size 150 --threads 2 --format json --plot "$dir/plot.svg" "$dir/clip.y4m"
else
  echo "valgrind_cli: ffmpeg not installed: video with detection skipped"
fi
vg 0 eval --data tests/cli/fer $W --threads 2
echo "valgrind_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
