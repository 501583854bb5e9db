#!/bin/sh
# Frames per second of `ferc video` on 640x480 input: a 10-second clip (300 frames at 30/s)
# of a crop moving across scikit-image's astronaut, made with ffmpeg, read from a file so
# that decoding is not timed. Detection runs on every frame. Median of REPS runs.
#   sh bench/bench_video.sh [FERC_ARGS...]      e.g. --detector haar, --classifier small
# Needs /usr/bin/python3 with scikit-image and ffmpeg; prints why when something is missing.
# The CPU time (user + system, /usr/bin/time) is printed too: on a loaded machine wall time
# counts the waits, while frames per CPU-second times the cores bounds what a quiet machine gives.
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
times="" cpus=""
for r in $(seq "$reps"); do
  start=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S" -o "$dir/cpu.txt" ./ferc video "$@" --summary "$clip" > "$dir/summary.txt" 2> "$dir/err.txt"; then
    echo "bench_video: ferc video failed: $(cat "$dir/err.txt")"; exit 1
  fi
  end=$(date +%s.%N)
  times="$times $(echo "$end - $start" | bc)"
  cpus="$cpus $(awk '{print $1 + $2}' "$dir/cpu.txt")"
done
median=$(echo $times | tr ' ' '\n' | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
cpu=$(echo $cpus | tr ' ' '\n' | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
echo "ferc video $*: 300 frames 640x480, median of $reps runs: ${median}s = $(echo "scale=1; 300 / $median" | bc) frames/s" \
  "(load average $(cut -d' ' -f1 /proc/loadavg)); CPU time ${cpu}s = $(echo "scale=1; 300 / $cpu" | bc) frames per CPU-second"
cat "$dir/summary.txt"
