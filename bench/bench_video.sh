#!/bin/sh
# Frames per second of `ferc video` on 640x480 input: a 10-second clip (300 frames at 30/s)
# of a crop moving across scikit-image's astronaut, made with ffmpeg, read from a file so
# that decoding is not timed. Detection runs on every frame. Median of REPS runs.
#   sh bench/bench_video.sh [FERC_ARGS...]      e.g. --detector haar, --classifier small
# Needs /usr/bin/python3 with scikit-image and ffmpeg; prints why when something is missing.
# The CPU time (user + system, /usr/bin/time) is printed too: on a loaded machine wall time
# counts the waits, while frames per CPU-second times the cores bounds what a quiet machine gives.
# BEFORE=OTHER/ferc alternates each run with that binary (another checkout's build, e.g. before a
# change) and prints its figures too: a change measured side by side under the same load.
set -eu
reps=${REPS:-3}
dir=${BENCH_DIR:-build/bench}
mkdir -p "$dir"
clip="$dir/astronaut_640x480.y4m"
if [ ! -s "$clip" ]; then
  command -v ffmpeg >/dev/null || { echo "bench_video: ffmpeg is not installed (apt-get install ffmpeg)"; exit 1; }
  /usr/bin/python3 -c "import skimage.data, PIL.Image; PIL.Image.fromarray(skimage.data.astronaut()).resize((1024, 1024)).save('$dir/astronaut.png')" ||
    { echo "bench_video: needs /usr/bin/python3 with scikit-image"; exit 1; }
  ffmpeg -v error -y -loop 1 -framerate 30 -i "$dir/astronaut.png" -vf "crop=640:480:'200+150*sin(t)':'150+100*cos(t)'" \
    -frames:v 300 -pix_fmt yuv420p -f yuv4mpegpipe "$clip"
fi
./ferc version | sed -n '1,3p'
# run BIN TAG ARGS...: one timed run of BIN video ARGS; "wall cpu" appended to $dir/times.TAG
run() {
  bin=$1 tag=$2
  shift 2
  start=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S" -o "$dir/cpu.txt" "$bin" video "$@" --summary "$clip" > "$dir/summary.$tag" 2> "$dir/err.txt"; then
    echo "bench_video: $bin video failed: $(cat "$dir/err.txt")"; exit 1
  fi
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(awk '{print $1 + $2}' "$dir/cpu.txt")" >> "$dir/times.$tag"
}
median() { sort -n | sed -n "$(( (reps + 1) / 2 ))p"; }
# report TAG LABEL ARGS...
report() {
  wall=$(cut -d' ' -f1 "$dir/times.$1" | median) cpu=$(cut -d' ' -f2 "$dir/times.$1" | median) label=$2
  shift 2
  echo "$label video $*: 300 frames 640x480, median of $reps runs: ${wall}s = $(echo "scale=1; 300 / $wall" | bc) frames/s" \
    "(load average $(cut -d' ' -f1 /proc/loadavg)); CPU time ${cpu}s = $(echo "scale=1; 300 / $cpu" | bc) frames per CPU-second"
}
rm -f "$dir/times.now" "$dir/times.before"
for r in $(seq "$reps"); do
  run ./ferc now "$@"
  [ -z "${BEFORE:-}" ] || run "$BEFORE" before "$@"
done
report now ferc "$@"
[ -z "${BEFORE:-}" ] || report before "$BEFORE" "$@"
cat "$dir/summary.now"
