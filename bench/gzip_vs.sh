#!/bin/bash
# wd gzip against pigz -1 and gzip -1 on the same file, in the same run,
# interleaved, median of N runs; prints MB/s and ratios, writes JSON.
# Usage: bench/gzip_vs.sh WD_BINARY [FILE] [RUNS] [JSON_OUT]
set -eu
WD=$(realpath "$1")
FILE=${2:-}
RUNS=${3:-5}
JSON=${4:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ -z "$FILE" ]; then
	# default input: the repository's corpus (corpus/README.md) 16 times
	# over, about 47 MB
	CORPUS="$(dirname "$0")/../corpus"
	files=()
	for f in "$CORPUS"/*; do
		[ -f "$f" ] && [ "$(basename "$f")" != README.md ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || { echo "gzip_vs.sh: no corpus in $CORPUS" >&2; exit 1; }
	for i in $(seq 16); do cat "${files[@]}"; done > "$T/input"
	FILE="$T/input"
fi
size=$(stat -c %s "$FILE")
cat "$FILE" > /dev/null # page cache

time_cmd() { # seconds for one run of a pipeline reading $FILE
	local t0 t1
	t0=$(date +%s.%N)
	"$@" < "$FILE" > "$T/out"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A times sizes
tools=("wd gzip -1" "pigz -1" "gzip -1")
for r in $(seq "$RUNS"); do
	for t in "${tools[@]}"; do
		case "$t" in
		"wd gzip -1") s=$(time_cmd "$WD" gzip -1 -c) ;;
		"pigz -1") s=$(time_cmd pigz -1 -c) ;;
		"gzip -1") s=$(time_cmd gzip -1 -c) ;;
		esac
		times[$t]+="$s "
		sizes[$t]=$(stat -c %s "$T/out")
		gunzip -c < "$T/out" | cmp -s - "$FILE" || { echo "$t: output does not decompress to the input"; exit 1; }
	done
done
printf '\nwd gzip vs pigz -1 vs gzip -1 on %s (%d bytes), %d cores, median of %d runs\n\n' \
	"$(basename "$FILE")" "$size" "$(nproc)" "$RUNS"
printf '%-12s %10s %10s %8s %14s\n' tool seconds MB/s ratio "speed vs wd"
wd_t=$(echo ${times["wd gzip -1"]} | tr ' ' '\n' | median)
json="{\"bench\": \"gzip_vs\", \"bytes\": $size, \"runs\": $RUNS, \"tools\": {"
sep=""
for t in "${tools[@]}"; do
	m=$(echo ${times[$t]} | tr ' ' '\n' | median)
	mbs=$(echo "$size / $m / 1000000" | bc -l)
	ratio=$(echo "$size / ${sizes[$t]}" | bc -l)
	rel=$(echo "$m / $wd_t" | bc -l)
	printf '%-12s %10.3f %10.1f %8.2f %13.2fx\n' "$t" "$m" "$mbs" "$ratio" "$rel"
	json+="$sep\"$t\": {\"seconds\": $m, \"mbps\": $mbs, \"ratio\": $ratio}"
	sep=", "
done
json+="}}"
pigz_t=$(echo ${times["pigz -1"]} | tr ' ' '\n' | median)
gzip_t=$(echo ${times["gzip -1"]} | tr ' ' '\n' | median)
faster() { [ "$(echo "$1 < $2" | bc -l)" = 1 ] && echo met || echo MISSED; }
printf '\ntarget: wd gzip faster than pigz -1: %s; faster than gzip -1: %s\n' \
	"$(faster "$wd_t" "$pigz_t")" "$(faster "$wd_t" "$gzip_t")"
[ -n "$JSON" ] && echo "$json" > "$JSON"
exit 0
