#!/bin/bash
# wd run [--stats] [--off] -- COMMAND: the layer preloaded into a command
# and all its processes, their statistics summed at the end; the command's
# exit status passed on.  Outputs checked by gzip and cmp without the layer.
# usage: t_zlib_wd_run.sh PRELOAD CORPUS_DIR WD_BINARY
. "$(dirname "$0")/zl_lib.sh"
WD=$(realpath "${3:?usage: $0 PRELOAD CORPUS_DIR WD_BINARY}")
need pigz; need gzip; need cmp
# a sanitizer build: its runtime first, as for the other tests (wd run puts
# the layer before what LD_PRELOAD already holds)
WD_ENV=""
case "$ZL_PRELOAD" in
*libasan*) WD_ENV="LD_PRELOAD='${ZL_PRELOAD%%:*}' ASAN_OPTIONS='$ZL_ASAN_OPTIONS:verify_asan_link_order=0'";;
esac
# $WDRUN ARGS...: wd run, usable inside sh -c pipelines
WDRUN=$T/wdrun
printf '#!/bin/sh
exec env %s "%s" run "$@"\n' "$WD_ENV" "$WD" > "$WDRUN"
chmod 755 "$WDRUN"
wdrun() { "$WDRUN" "$@"; }
cd "$T" || exit 1
f=${CORPUS_FILES[0]}
g=${CORPUS_FILES[1]}
check "wd run --stats -- pigz" sh -c "'$WDRUN' --stats -- pigz -c -p 2 '$f' > a.gz 2> a.err"
check "  gzip -dc reads it" sh -c "gzip -dc a.gz | cmp -s - '$f'"
check "  the summary: deflate streams on WarpDrive" \
	sh -c "grep -Eq '^ +deflate +[1-9][0-9]* on WarpDrive' a.err"
cat a.err
check "wd run --stats --off -- pigz" sh -c "'$WDRUN' --stats --off -- pigz -c '$f' > b.gz 2> b.err"
check "  gzip -dc reads it" sh -c "gzip -dc b.gz | cmp -s - '$f'"
check "  the summary: nothing on WarpDrive, the reason disabled" \
	sh -c "grep -Eq '^ +deflate +0 on WarpDrive, [1-9][0-9]* on zlib' b.err && grep -q disabled b.err"
cat b.err
check "wd run --stats, two processes" sh -c "'$WDRUN' --stats -- sh -c \"pigz -c '$f' > c1.gz && pigz -c '$g' > c2.gz\" 2> c.err"
check "  both outputs right" sh -c "gzip -dc c1.gz | cmp -s - '$f' && gzip -dc c2.gz | cmp -s - '$g'"
check "  the summary counts both processes" sh -c "grep -Eq '^wd run: [2-9][0-9]* processes used zlib' c.err"
cat c.err
check "wd run without --stats: LD_PRELOAD reaches the command" \
	sh -c "'$WDRUN' -- sh -c 'echo \"\$LD_PRELOAD\"' | grep -q libwd-zlib"
wdrun -- sh -c 'exit 3' 2>/dev/null; rc=$?
check "exit status passed on (3, got $rc)" test "$rc" = 3
wdrun --stats -- sh -c 'exit 4' 2>/dev/null; rc=$?
check "exit status passed on with --stats (4, got $rc)" test "$rc" = 4
wdrun --stats -- sh -c 'kill -TERM $$' 2>/dev/null; rc=$?
check "a signal passed on as 128+n (143, got $rc)" test "$rc" = 143
wdrun -- /nonexistent/program 2>/dev/null; rc=$?
check "a command not found is 127 (got $rc)" test "$rc" = 127
zl_done
