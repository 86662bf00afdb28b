#!/bin/bash
# Instructions per small operation, EVP through the wd provider vs EVP
# through OpenSSL's default provider, counted by callgrind: the figure that
# the shared machines' noise cannot move (a few nanoseconds on a 15-30 ns
# operation are lost in it; the timed table is `wd bench provider`).
# Each counted call of `wd bench provider -c N` (counted_ops) is dumped
# apart; instructions in it / N is the cost of one operation, EVP included.
# The ratio default / wd is the speed the instructions predict (>= 0.95
# is the target of issue 12 for sizes the threshold keeps in software).
# Usage: bench/prov_insns.sh WD_BINARY [OPS] [JSON_OUT]
set -eu
WD=$(realpath "$1")
N=${2:-20000}
JSON=${3:-}
command -v valgrind > /dev/null || { echo "prov_insns.sh: valgrind is not installed" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
(cd "$T" && valgrind --tool=callgrind --collect-atstart=no --toggle-collect=counted_ops \
	--dump-after=counted_ops --callgrind-out-file="$T/cg.out" \
	"$WD" bench provider -c "$N" > "$T/order" 2> "$T/valgrind.log") ||
	{ tail -20 "$T/valgrind.log" >&2; exit 1; }
# the dumps come numbered in the order of the calls (cg.out.1, .2, ...)
i=0
while read -r _ mode size place n; do
	i=$((i + 1))
	ir=$(sed -n 's/^summary: //p; s/^totals: //p' "$T/cg.out.$i" | head -1)
	[ -n "$ir" ] || { echo "prov_insns.sh: no count in dump $i" >&2; exit 1; }
	echo "$mode $size $place $((ir / n))"
done < "$T/order" > "$T/counts"
awk -v json="$JSON" -v nops="$N" '
	{ k = $1 " " $2; if ($3 == "default") d[k] = $4; else { w[k] = $4; order[++n] = k } }
	END {
		printf "\ninstructions per operation, EVP included (callgrind, %s ops each)\n\n", nops
		printf "%-18s %6s %9s %9s %7s %8s\n", "mode", "bytes", "default", "wd", "extra", "ratio"
		worst = 9
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, f, " ")
			r = d[k] / w[k]; if (r < worst) { worst = r; wk = k }
			printf "%-18s %6d %9d %9d %+7d %7.3fx\n", f[1], f[2], d[k], w[k], w[k] - d[k], r
		}
		printf "\nlowest ratio: %.3fx (%s); target >= 0.95x: %s\n", worst, wk,
		       (worst >= 0.95 ? "met" : "MISSED")
		if (json != "") {
			printf "{\n  \"bench\": \"provider-instructions\",\n  \"results\": [" > json
			for (i = 1; i <= n; i++) {
				k = order[i]; split(k, f, " ")
				printf "%s\n    {\"mode\": \"%s\", \"bytes\": %d, \"default_insns\": %d, " \
				       "\"wd_insns\": %d, \"ratio\": %.3f}", (i > 1 ? "," : ""), f[1], f[2],
				       d[k], w[k], (d[k] / w[k]) > json
			}
			printf "\n  ],\n  \"lowest_ratio\": %.3f\n}\n", (worst) > json
		}
	}' "$T/counts"
