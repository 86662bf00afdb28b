#!/bin/bash
# Real programs with and without the zlib layer (wd run), on the same input,
# interleaved, median of N runs: pigz -p 1 at levels 1 and 6 (compression)
# and -d, and Debian's python3 gzip module compressing (level 6 and 9) and
# decompressing.  Prints seconds, the speed-up, the ratio of output sizes
# (layer / zlib), and JSON.  Outputs are checked with gzip -t, which does not
# use the layer.
# Usage: bench/zlib_progs.sh WD_BINARY [FILE] [RUNS] [JSON_OUT]
set -eu
WD=$(realpath "$1")
FILE=${2:-}
RUNS=${3:-5}
JSON=${4:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
if [ -z "$FILE" ]; then
	# the repository's corpus (corpus/README.md) 4 times over, about 12 MB
	CORPUS="$(dirname "$0")/../corpus"
	for i in 1 2 3 4; do
		for f in "$CORPUS"/*; do
			[ "$(basename "$f")" != README.md ] && cat "$f"
		done
	done > "$T/input"
	FILE="$T/input"
fi
size=$(stat -c %s "$FILE")
gzip -6 -c "$FILE" > "$T/input.gz"

secs() { # seconds of one run of "$@"
	local t0 t1
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# each case: name, then the command (reads $IN, writes $OUT)
cases=(
	"pigz-p1-1|pigz -p 1 -1 -c \"\$IN\" > \"\$OUT\""
	"pigz-p1-6|pigz -p 1 -6 -c \"\$IN\" > \"\$OUT\""
	"pigz-p1-d|pigz -p 1 -d -c \"\$IN.gz\" > \"\$OUT\""
	"python-gzip-6|$PY -c 'import gzip,sys; open(sys.argv[2],\"wb\").write(gzip.compress(open(sys.argv[1],\"rb\").read(), 6))' \"\$IN\" \"\$OUT\""
	"python-gzip-9|$PY -c 'import gzip,sys; open(sys.argv[2],\"wb\").write(gzip.compress(open(sys.argv[1],\"rb\").read(), 9))' \"\$IN\" \"\$OUT\""
	"python-gunzip|$PY -c 'import gzip,sys; open(sys.argv[2],\"wb\").write(gzip.decompress(open(sys.argv[1]+\".gz\",\"rb\").read()))' \"\$IN\" \"\$OUT\""
)
export IN="$FILE"
printf "%d bytes, median of %d runs, seconds\n" "$size" "$RUNS"
printf "%-15s %9s %9s %9s %10s\n" case zlib layer speedup "size l/z"
json="["
for c in "${cases[@]}"; do
	name=${c%%|*}
	cmd=${c#*|}
	: > "$T/a"
	: > "$T/b"
	for r in $(seq "$RUNS"); do
		OUT="$T/out.zlib" secs bash -c "$cmd" >> "$T/a"
		OUT="$T/out.layer" secs "$WD" run -- bash -c "$cmd" >> "$T/b"
	done
	OUT="$T/out.zlib" bash -c "$cmd"
	OUT="$T/out.layer" "$WD" run -- bash -c "$cmd"
	case $name in
	*-d|*gunzip) cmp "$T/out.layer" "$FILE" || { echo "$name: wrong output" >&2; exit 1; }
		ratio=1 ;;
	*) gzip -t "$T/out.layer" || { echo "$name: bad gzip" >&2; exit 1; }
		ratio=$(echo "$(stat -c %s "$T/out.layer") / $(stat -c %s "$T/out.zlib")" | bc -l) ;;
	esac
	a=$(median < "$T/a")
	b=$(median < "$T/b")
	sp=$(echo "$a / $b" | bc -l)
	printf "%-15s %9.3f %9.3f %8.2fx %10.3f\n" "$name" "$a" "$b" "$sp" "$ratio"
	json="$json{\"case\":\"$name\",\"zlib_s\":$a,\"layer_s\":$b,\"speedup\":$sp,\"size_ratio\":$ratio},"
done
json="${json%,}]"
[ -n "$JSON" ] && echo "$json" > "$JSON"
echo "target: pigz -p 1 and python gzip at least 2x faster under the layer"
