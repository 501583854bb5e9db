#!/bin/sh
# Peak resident memory (GNU time's "Maximum resident set size") of the ferc command on a
# 24-megapixel photo (6000x4000 JPEG), the same photo refused by --max-pixels, and 60 frames
# of 1080p video (1920x1080 yuv420p Y4M), inputs made with ffmpeg from
# tests/data/astronaut.jpg; then ferc serve under wrk and with 16 bodies of --max-body held
# at once (bench/serve_memory.py; needs wrk). docs/reliability.md has the figures.
#   sh bench/memory.sh [./ferc]          (THREADS=2 by default)
set -eu
ferc=${1:-./ferc}
threads=${THREADS:-2}
dir=${BENCH_DIR:-build/bench}
mkdir -p "$dir"
command -v ffmpeg >/dev/null || { echo "bench/memory.sh: needs ffmpeg (apt-get install ffmpeg)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/memory.sh: needs GNU time (apt-get install time)"; exit 1; }
photo="$dir/photo_24mp.jpg" clip="$dir/clip_1080p.y4m"
[ -s "$photo" ] || ffmpeg -v error -y -i tests/data/astronaut.jpg -vf scale=6000:4000 -q:v 3 "$photo"
[ -s "$clip" ] || ffmpeg -v error -y -loop 1 -framerate 30 -i tests/data/astronaut.jpg \
  -vf "scale=2160:2160,crop=1920:1080:'120+100*sin(t)':'200+80*cos(t)'" -frames:v 60 -pix_fmt yuv420p \
  -f yuv4mpegpipe "$clip"
peak() { # label, then the command
  label=$1; shift
  /usr/bin/time -v "$@" > "$dir/memory_out.txt" 2> "$dir/memory_time.txt" || true
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/memory_time.txt")
  s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/memory_time.txt")
  echo "$label: peak RSS $((kb / 1024)) MB ($kb kB), wall $s, $(wc -l < "$dir/memory_out.txt") output lines"
}
peak "24 MP photo (6000x4000), --threads $threads" "$ferc" --threads "$threads" "$photo"
peak "24 MP photo refused by --max-pixels 12000000" "$ferc" --threads "$threads" --max-pixels 12000000 "$photo"
peak "1080p video, 60 frames, --threads $threads" "$ferc" video --threads "$threads" "$clip"
peak "1080p video refused by --max-pixels 2000000" "$ferc" video --threads "$threads" --max-pixels 2000000 "$clip"
if command -v wrk >/dev/null; then
  /usr/bin/python3 bench/serve_memory.py --ferc "$ferc"
else
  echo "bench/memory.sh: wrk not installed (apt-get install wrk): ferc serve not measured"
fi
