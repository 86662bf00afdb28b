#!/bin/bash
# wd gzip on the daemon's queues (wd -D wdd), the daemon SIGKILLed half-way
# through its input: the output is still a right gzip file (gzip -d gives
# the input back), wd exits 0, and says on stderr that the built-in engine
# completed requests instead; the same with -q says nothing.
# usage: t_gzip_failover.sh WD WDD CORPUS
set -u
WD=$(realpath "$1")
WDD=$(realpath "$2")
CORPUS=$(realpath "${3:-$(dirname "$0")/../../corpus}" 2>/dev/null) || CORPUS=${3:-}
[ -x "$WD" ] && [ -x "$WDD" ] || { echo "no wd/wdd binaries"; exit 1; }
command -v gzip >/dev/null || { echo "gzip not installed: skipping"; exit 77; }
[ -d "$CORPUS" ] || { echo "FAIL: corpus '$CORPUS' missing (corpus/README.md)"; exit 1; }
T=$(mktemp -d)
WPID=
trap '[ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
# some 20 MB of real text, in two halves
for i in 1 2 3 4 5 6 7; do cat "$CORPUS"/*; done > half1
for i in 1 2 3 4 5 6 7; do cat "$CORPUS"/*; done | tr 'a-m' 'n-z' > half2
cat half1 half2 > all
fails=0

# one run: the daemon dies after the first half went in
run() { # run NAME [wd gzip options...]
	local name="$1" rc; shift
	rm -f wdd.sock out.gz err fifo
	"$WDD" -f -s "$T/wdd.sock" -t 1 >/dev/null 2>&1 &
	WPID=$!
	for _ in $(seq 100); do [ -S wdd.sock ] && break; sleep 0.05; done
	mkfifo fifo
	WD_WDD_SOCKET="$T/wdd.sock" "$WD" -D wdd gzip -c "$@" < fifo > out.gz 2> err &
	local gpid=$!
	{
		cat half1
		sleep 0.3 # its pieces in flight
		kill -KILL "$WPID"
		wait "$WPID" 2>/dev/null
		cat half2
	} > fifo
	wait "$gpid"; rc=$?
	WPID=
	if [ "$rc" = 0 ] && gzip -dc out.gz | cmp -s - all; then
		echo "ok   $name: the output is right"
	else
		echo "FAIL $name: exit $rc, or the output is wrong"; cat err; fails=$((fails + 1))
	fi
}

run "daemon killed half-way"
if grep -q "the device failed; [1-9][0-9]* requests completed by the built-in engine" err; then
	echo "ok   it says so: $(cat err)"
else
	echo "FAIL nothing said on stderr:"; cat err; fails=$((fails + 1))
fi
run "the same with -q" -q
if [ -s err ]; then echo "FAIL -q still said:"; cat err; fails=$((fails + 1)); else echo "ok   -q: quiet"; fi
[ "$fails" = 0 ]
