#!/bin/bash
# wd gzip against pigz and gzip at levels 1, 6 and 9, and wd gunzip against
# igzip -d (ISA-L's command line, Debian package isal) and gzip -d, on the
# same file, in the same run, interleaved, median of N runs; prints seconds,
# MB/s (of uncompressed data), sizes and ratios, the targets, and JSON.
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
have_igzip=0
command -v igzip > /dev/null && have_igzip=1

time_cmd() { # seconds for one run of a command reading $2, writing $T/out
	local in=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@" < "$in" > "$T/out"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# the input of the decompressors: gzip -6's output, as most .gz files are
gzip -6 -c < "$FILE" > "$T/input.gz"
gzsize=$(stat -c %s "$T/input.gz")

comp_tools=()
for l in 1 6 9; do comp_tools+=("wd gzip -$l" "pigz -$l" "gzip -$l"); done
dec_tools=("wd gunzip" "gzip -d")
[ $have_igzip = 1 ] && dec_tools+=("igzip -d")

declare -A times sizes
for r in $(seq "$RUNS"); do
	for t in "${comp_tools[@]}"; do
		l=${t##*-}
		case "$t" in
		"wd gzip"*) s=$(time_cmd "$FILE" "$WD" gzip -"$l" -c) ;;
		"pigz"*) s=$(time_cmd "$FILE" pigz -"$l" -c) ;;
		"gzip"*) s=$(time_cmd "$FILE" gzip -"$l" -c) ;;
		esac
		times[$t]+="$s "
		sizes[$t]=$(stat -c %s "$T/out")
		gunzip -c < "$T/out" | cmp -s - "$FILE" || { echo "$t: output does not decompress to the input"; exit 1; }
		gzip -t < "$T/out" || { echo "$t: gzip -t fails"; exit 1; }
	done
	for t in "${dec_tools[@]}"; do
		case "$t" in
		"wd gunzip") s=$(time_cmd "$T/input.gz" "$WD" gunzip -c) ;;
		"gzip -d") s=$(time_cmd "$T/input.gz" gzip -d -c) ;;
		"igzip -d") s=$(time_cmd "$T/input.gz" igzip -d -c) ;;
		esac
		times[$t]+="$s "
		cmp -s "$T/out" "$FILE" || { echo "$t: wrong output"; exit 1; }
	done
done

med() { echo ${times[$1]} | tr ' ' '\n' | median; }
num() { printf '%.6f' "$1"; } # bc writes .5 for 0.5, which is no JSON
printf '\nwd gzip vs pigz and gzip, wd gunzip vs igzip -d and gzip -d, on %s (%d bytes),\n' \
	"$(basename "$FILE")" "$size"
printf '%d cores, median of %d runs (MB/s: of uncompressed data)\n\n' "$(nproc)" "$RUNS"
printf '%-12s %9s %8s %11s %7s %12s %12s\n' tool seconds MB/s bytes ratio "speed vs wd" "size vs gzip"
json="{\"bench\": \"gzip_vs\", \"bytes\": $size, \"runs\": $RUNS, \"cores\": $(nproc), \"tools\": {"
sep=""
for t in "${comp_tools[@]}"; do
	l=${t##*-}
	m=$(med "$t")
	wd_t=$(med "wd gzip -$l")
	mbs=$(echo "$size / $m / 1000000" | bc -l)
	ratio=$(echo "$size / ${sizes[$t]}" | bc -l)
	rel=$(echo "$m / $wd_t" | bc -l)
	vs=$(echo "100 * ${sizes[$t]} / ${sizes["gzip -$l"]} - 100" | bc -l)
	printf '%-12s %9.3f %8.1f %11d %7.3f %11.2fx %+11.2f%%\n' "$t" "$m" "$mbs" "${sizes[$t]}" \
		"$ratio" "$rel" "$vs"
	json+="$sep\"$t\": {\"seconds\": $(num "$m"), \"mbps\": $(num "$mbs"), \"bytes\": ${sizes[$t]}, \"ratio\": $(num "$ratio")}"
	sep=", "
	[ "$l" != 9 ] && [ "$t" = "gzip -$l" ] && echo
done
echo
wdd_t=$(med "wd gunzip")
for t in "${dec_tools[@]}"; do
	m=$(med "$t")
	mbs=$(echo "$size / $m / 1000000" | bc -l)
	rel=$(echo "$m / $wdd_t" | bc -l)
	printf '%-12s %9.3f %8.1f %11d %7s %11.2fx\n' "$t" "$m" "$mbs" "$gzsize" "" "$rel"
	json+="$sep\"$t\": {\"seconds\": $(num "$m"), \"mbps\": $(num "$mbs"), \"input_bytes\": $gzsize}"
done
json+="}, \"targets\": ["
faster() { [ "$(echo "$1 * ${3:-1} <= $2" | bc -l)" = 1 ] && echo met || echo MISSED; }
within() { [ "$(echo "$1 <= $2 * 1.01" | bc -l)" = 1 ] && echo met || echo MISSED; }
printf '\ntargets\n'
tsep=""
target() { # target NAME VALUE MIN RESULT
	printf '  %-40s %8.3f  (>= %s)  %s\n' "$1" "$2" "$3" "$4"
	json+="$tsep{\"what\": \"$1\", \"value\": $(num "$2"), \"min\": $3, \"met\": $([ "$4" = met ] && echo true || echo false)}"
	tsep=", "
}
target "wd gzip -1 speed / pigz -1" "$(echo "$(med "pigz -1") / $(med "wd gzip -1")" | bc -l)" 1 \
	"$(faster "$(med "wd gzip -1")" "$(med "pigz -1")")"
target "wd gzip -1 speed / gzip -1" "$(echo "$(med "gzip -1") / $(med "wd gzip -1")" | bc -l)" 1 \
	"$(faster "$(med "wd gzip -1")" "$(med "gzip -1")")"
for l in 6 9; do
	target "wd gzip -$l speed / pigz -$l" \
		"$(echo "$(med "pigz -$l") / $(med "wd gzip -$l")" | bc -l)" 3 \
		"$(faster "$(med "wd gzip -$l")" "$(med "pigz -$l")" 3)"
	target "gzip -$l size / wd gzip -$l size" \
		"$(echo "${sizes["gzip -$l"]} / ${sizes["wd gzip -$l"]}" | bc -l)" 0.99 \
		"$(within "${sizes["wd gzip -$l"]}" "${sizes["gzip -$l"]}")"
done
if [ $have_igzip = 1 ]; then
	target "wd gunzip speed / igzip -d" "$(echo "$(med "igzip -d") / $wdd_t" | bc -l)" 1 \
		"$(faster "$wdd_t" "$(med "igzip -d")")"
else
	echo "  (igzip not installed: apt-get install isal)"
fi
target "wd gunzip speed / gzip -d" "$(echo "$(med "gzip -d") / $wdd_t" | bc -l)" 1 \
	"$(faster "$wdd_t" "$(med "gzip -d")")"
json+="]}"
[ -n "$JSON" ] && echo "$json" > "$JSON"
exit 0
