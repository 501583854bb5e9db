#!/bin/sh
# `ferc video` with detection under ThreadSanitizer (make tsan): the three-stage pipeline
# (reader, detector, classifier threads) plus the engines' OpenMP threads, on 24 frames of
# a crop moving across tests/data/astronaut.jpg (made with ffmpeg), for the SSD and the LBP
# cascade, 2 engine threads each. Fails on any TSan report (TSAN_OPTIONS from the Makefile)
# or when no face is tracked.
#   sh tests/tsan_video.sh build/tsan/ferc
set -eu
ferc=${1:-build/tsan/ferc}
export FERC_WEIGHTS=${FERC_WEIGHTS:-weights}
dir=$(mktemp -d /tmp/ferc_tsan_video_XXXXXX)
trap 'rm -rf "$dir"' EXIT
command -v ffmpeg >/dev/null || { echo "tsan_video: ffmpeg is not installed: skipped"; exit 0; }
ffmpeg -v error -y -loop 1 -framerate 24 -i tests/data/astronaut.jpg \
  -vf "crop=320:240:'100+60*sin(t)':'20+20*cos(t)'" -frames:v 24 -pix_fmt yuv420p -f yuv4mpegpipe "$dir/clip.y4m"
for det in ssd lbp; do
  echo "== tsan: ferc video --detector $det --threads 4 (24 frames 320x240)"
  "$ferc" video --detector $det --threads 4 --format json --plot "$dir/plot.svg" "$dir/clip.y4m" > "$dir/out.json"
  frames=$(grep -c '"frame"' "$dir/out.json")
  tracked=$(grep -c '"track":1' "$dir/out.json" || true)
  echo "   $frames frames, $tracked with track 1"
  [ "$frames" -eq 24 ] && [ "$tracked" -ge 12 ] && grep -q '</svg>' "$dir/plot.svg"
done
