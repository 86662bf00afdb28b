#!/bin/bash
# `openssl speed` through the wd provider against OpenSSL's default
# provider, synchronous and with -async_jobs 8, per mode and size (speed's
# own sizes 16 B-16 KiB, then 64 KiB), runs interleaved, the median kept;
# prints the table of ratios and the lowest one against the 0.95 target of
# issue 12, and JSON.  The provider runs with its defaults (thresholds,
# async = auto); WD_PROV_* in the environment change them.
# Usage: bench/prov_speed.sh MODULE_DIR [RUNS] [SECONDS] [JSON_OUT]
set -eu
MOD=$(realpath "$1")
RUNS=${2:-3}
SECS=${3:-1}
JSON=${4:-}
[ -f "$MOD/wd.so" ] || { echo "prov_speed.sh: no wd.so in $MOD" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
WD=(-provider-path "$MOD" -provider wd -provider default -propquery '?provider=wd')
modes=(aes-128-cbc aes-128-ctr aes-256-xts aes-128-gcm)

# one speed run: its figures (1000s of bytes per second), one per size
speed() { # provider(default|wd) async(0|N) mode [bytes]
	local args=() out
	[ "$1" = wd ] && args+=("${WD[@]}")
	[ "$2" != 0 ] && args+=(-async_jobs "$2")
	[ -n "${4:-}" ] && args+=(-bytes "$4")
	out=$(openssl speed "${args[@]}" -seconds "$SECS" -evp "$3" 2> /dev/null | tail -1)
	echo "$out" | awk '{ for (i = 2; i <= NF; i++) { v = $i; sub(/k$/, "", v); printf "%s ", v } }'
}

for r in $(seq "$RUNS"); do
	for m in "${modes[@]}"; do
		for a in 0 8; do
			for p in default wd; do
				echo "$m $a $p $(speed $p $a "$m") $(speed $p $a "$m" 65536)" >> "$T/raw"
			done
		done
	done
	echo "run $r of $RUNS done" >&2
done

awk -v json="$JSON" -v runs="$RUNS" '
	BEGIN { split("16 64 256 1024 8192 16384 65536", size, " ") }
	function median(list,   n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	{
		k = $1 " " $2
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
		for (i = 4; i <= NF && i - 3 <= 7; i++) fig[k, $3, i - 3] = fig[k, $3, i - 3] " " $i
	}
	END {
		printf "\nopenssl speed: wd provider (defaults) vs default provider, median of %d runs (MB/s)\n\n", runs
		printf "%-12s %-6s %6s %10s %10s %7s\n", "mode", "jobs", "bytes", "default", "wd", "ratio"
		worst = 9; nj = 0
		for (o = 1; o <= nk; o++) {
			split(order[o], f, " ")
			for (s = 1; s <= 7; s++) {
				d = median(fig[order[o], "default", s]) / 1000
				w = median(fig[order[o], "wd", s]) / 1000
				if (d <= 0) continue
				r = w / d; if (r < worst) { worst = r; wk = order[o] " " size[s] }
				printf "%-12s %-6s %6d %10.1f %10.1f %6.3fx\n", f[1], f[2] ? "async" f[2] : "sync",
				       size[s], d, w, r
				line[++nj] = sprintf("{\"mode\": \"%s\", \"async_jobs\": %d, \"bytes\": %d, " \
						     "\"default_mbps\": %.1f, \"wd_mbps\": %.1f, \"ratio\": %.3f}",
						     f[1], f[2], size[s], d, w, r)
			}
		}
		printf "\nlowest ratio: %.3fx (%s); target >= 0.95x: %s\n", worst, wk,
		       (worst >= 0.95 ? "met" : "MISSED")
		if (json != "") {
			printf "{\n  \"bench\": \"provider-openssl-speed\",\n  \"runs\": %d,\n  \"results\": [", runs > json
			for (i = 1; i <= nj; i++) printf "%s\n    %s", (i > 1 ? "," : ""), line[i] > json
			printf "\n  ],\n  \"lowest_ratio\": %.3f\n}\n", (worst) > json
		}
	}' "$T/raw"
