#!/bin/bash
# The zlib layer on the daemon (WD_DEVICE=wdd0): a private wdd on a socket
# of its own, the layer's C tests run against it, then the daemon stopped
# as a service manager would (SIGTERM) and required to exit cleanly.
# usage: t_zlib_on_wdd.sh PRELOAD CORPUS_DIR WDD_BINARY TEST_BINARY_DIR [FORK_TEST yes|no]
# (no: a TSan build, which cannot follow a fork of a threaded process)
. "$(dirname "$0")/zl_lib.sh"
WDD=$(realpath "${3:?usage: $0 PRELOAD CORPUS_DIR WDD TEST_DIR}")
BIN=$(realpath "${4:?usage: $0 PRELOAD CORPUS_DIR WDD TEST_DIR}")
"$WDD" -f -s "$T/wdd.sock" -t 2 > "$T/wdd.log" 2>&1 &
WDD_PID=$!
zl_cleanup_hooks+=('kill "$WDD_PID" 2>/dev/null; wait "$WDD_PID" 2>/dev/null')
for i in $(seq 1 100); do
	[ -S "$T/wdd.sock" ] && break
	sleep 0.1
done
[ -S "$T/wdd.sock" ] || { echo "FAIL: wdd did not start"; cat "$T/wdd.log"; exit 1; }
export WD_WDD_SOCKET=$T/wdd.sock
on_wdd() { # the layer with the daemon as its device
	env WD_DEVICE=wdd0 "$LAYER" "$@"
}
check "t_zlib_matrix on wdd0" on_wdd "$BIN/t_zlib_matrix" "$CORPUS" layer 150
check "t_zlib_threads on wdd0" on_wdd "$BIN/t_zlib_threads" "$CORPUS" layer
check "t_zlib_gz on wdd0" on_wdd "$BIN/t_zlib_gz" "$CORPUS" layer
if [ "${5:-yes}" = yes ]; then
	: > "$T/fork.stats"
	check "t_zlib_fork on wdd0" env WD_DEVICE=wdd0 LD_PRELOAD="$ZL_PRELOAD" \
		WD_ZLIB_STATS="$T/fork.stats" ASAN_OPTIONS="$ZL_ASAN_OPTIONS" "$BIN/t_zlib_fork" \
		"$CORPUS" layer
fi
kill -TERM "$WDD_PID"
wait "$WDD_PID"
rc=$?
check "wdd exits cleanly on SIGTERM (status $rc)" test "$rc" = 0
zl_require_wd any
zl_done
