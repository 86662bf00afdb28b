#!/bin/bash
# wd gzip / wd gunzip against the system's gzip on real files: round trips
# both ways, stdin/stdout, multi-member, several files, -k -f -l -t -c -d,
# levels, empty input, and failures that must leave nothing behind.
set -u
# The corpus is part of the repository (corpus/): missing or empty, the test
# fails rather than skips.
WD=$(realpath "$1")
CORPUS=$(realpath "${2:-$(dirname "$0")/../../corpus}" 2>/dev/null) || CORPUS=${2:-}
[ -x "$WD" ] || { echo "no wd binary at $1"; exit 1; }
command -v gzip >/dev/null || { echo "gzip not installed: skipping"; exit 77; }
[ -d "$CORPUS" ] || { echo "FAIL: corpus '$CORPUS' missing (corpus/README.md)"; exit 1; }
nfiles=0
for f in "$CORPUS"/*; do
	case "$f" in *README*) continue;; esac
	[ -f "$f" ] && nfiles=$((nfiles + 1))
done
[ "$nfiles" -gt 0 ] || { echo "FAIL: corpus $CORPUS has no files (corpus/README.md)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
check() { # check NAME CMD...: the command must succeed
	local name="$1"; shift
	if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
check_not() { # the command must fail the way wd fails: exit status 1
	local name="$1" rc; shift
	"$@" 2>/dev/null; rc=$?
	if [ "$rc" = 1 ]; then echo "ok   $name"; else echo "FAIL $name (exit $rc)"; fails=$((fails + 1)); fi
}

for f in "$CORPUS"/*; do
	case "$f" in *README*) continue;; esac
	b=$(basename "$f")
	cp "$f" "$b"
	check "wd gzip -k $b, gunzip reads it" sh -c "'$WD' gzip -k '$b' && gunzip -c '$b.gz' | cmp -s - '$b'"
	check "gzip -c $b, wd gunzip reads it" sh -c "gzip -c '$b' | '$WD' gunzip -c | cmp -s - '$b'"
	check "wd gzip -l $b matches gzip -l" sh -c "[ \"\$('$WD' gzip -l '$b.gz')\" = \"\$(gzip -l '$b.gz')\" ]"
	rm -f "$b.gz"
done

# A large input crosses many pieces; levels 1 and 9; pigz reads it too.
cat "$CORPUS"/* "$CORPUS"/* "$CORPUS"/* > big
head -c 3000000 /dev/urandom >> big
for lvl in 1 9; do
	check "large -$lvl round trip via gunzip" sh -c "'$WD' gzip -$lvl -c big | gunzip | cmp -s - big"
done
if command -v pigz >/dev/null; then
	check "large via pigz -d" sh -c "'$WD' gzip -c big | pigz -dc | cmp -s - big"
fi
check "large decompressed by wd from gzip -9" sh -c "gzip -9c big | '$WD' gunzip | cmp -s - big"

# stdin/stdout
check "stdin to stdout" sh -c "'$WD' gzip < big > big.s.gz && gunzip -c big.s.gz | cmp -s - big"
check "- means stdin" sh -c "cat big | '$WD' gzip -c - | '$WD' gunzip -c - | cmp -s - big"

# multi-member (as cat a.gz b.gz makes)
cp "$CORPUS/alice29.txt" a; cp "$CORPUS/html" b
gzip -c a > ab.gz; "$WD" gzip -c b >> ab.gz; gzip -c a >> ab.gz
cat a b a > ab.want
check "multi-member to stdout" sh -c "'$WD' gunzip -c ab.gz | cmp -s - ab.want"
check "multi-member -t" "$WD" gunzip -t ab.gz

# files in place: input replaced, mode and mtime kept, restored on -d
cp a c; chmod 640 c; touch -d '2020-01-02 03:04:05' c
check "compress in place" sh -c "'$WD' gzip c && [ ! -e c ] && [ -e c.gz ]"
check "mode kept" sh -c "[ \"\$(stat -c %a c.gz)\" = 640 ]"
check "mtime kept" sh -c "[ \"\$(stat -c %Y c.gz)\" = \"\$(date -d '2020-01-02 03:04:05' +%s)\" ]"
check "decompress in place" sh -c "'$WD' gunzip c.gz && [ ! -e c.gz ] && cmp -s a c"

# several files at once
cp a m1; cp b m2
check "several files" sh -c "'$WD' gzip m1 m2 && '$WD' gzip -d m1.gz m2.gz && cmp -s a m1 && cmp -s b m2"

# no overwrite without -f; -f overwrites
cp a d; echo keep-me > d.gz
check_not "existing output refused" "$WD" gzip -k d
check "existing output untouched" sh -c "[ \"\$(cat d.gz)\" = keep-me ]"
check "-f overwrites" sh -c "'$WD' gzip -kf d && gunzip -c d.gz | cmp -s - a"

# empty input
: > e
check "empty file round trip" sh -c "'$WD' gzip -k e && gunzip -c e.gz | cmp -s - e && '$WD' gunzip -c e.gz | cmp -s - e"

# corrupt and truncated input: clear error, no partial file, .gz kept
gzip -c big > t.gz
head -c 100000 t.gz > trunc.gz
check_not "truncated: error" "$WD" gunzip trunc.gz
check "truncated: no partial output, input kept" sh -c "[ ! -e trunc ] && [ -e trunc.gz ] && ! ls .wdgz.* >/dev/null 2>&1"
check "truncated: message names the problem" sh -c "'$WD' gunzip -c trunc.gz 2>&1 >/dev/null | grep -q 'unexpected end of file'"
cp t.gz flip.gz
printf '\xff\xff\xff\xff' | dd of=flip.gz bs=1 seek=5000 conv=notrunc 2>/dev/null
check_not "corrupt: error" "$WD" gunzip flip.gz
check "corrupt: no partial output" sh -c "[ ! -e flip ] && [ -e flip.gz ]"
check_not "corrupt: -t fails" "$WD" gunzip -t flip.gz
check "good: -t passes" "$WD" gunzip -t t.gz
head -c 5000 /dev/urandom > garbage.gz
check_not "garbage: error" "$WD" gunzip -c garbage.gz
check_not "not gzip: error" sh -c "'$WD' gunzip -c < a > /dev/null"
check "not gzip: said as gzip says it" sh -c "'$WD' gunzip -c < a 2>&1 >/dev/null | grep -q 'not in gzip format'"

# suffix rules
cp a nosuf
"$WD" gunzip nosuf 2>/dev/null; rc=$?
check "unknown suffix is a warning (exit 2), file kept" sh -c "[ $rc = 2 ] && [ -e nosuf ]"

# trailing garbage after a member: data out, warning (exit 2), as gzip
gzip -c a > tg.gz; echo "trailing junk" >> tg.gz
"$WD" gunzip -c tg.gz > tg.out 2>/dev/null; rc=$?
check "trailing garbage: data intact, exit 2" sh -c "[ $rc = 2 ] && cmp -s tg.out a"

# zeros padding the end of the file (tape blocks): accepted silently, as gzip
gzip -c a > tz.gz; head -c 4096 /dev/zero >> tz.gz
"$WD" gunzip -c tz.gz > tz.out 2>tz.err; rc=$?
check "trailing zeros: data intact, exit 0, no warning" sh -c "[ $rc = 0 ] && cmp -s tz.out a && [ ! -s tz.err ]"
"$WD" gunzip -c < tz.gz > tz.out 2>/dev/null; rc=$?
check "trailing zeros on stdin: exit 0" sh -c "[ $rc = 0 ] && cmp -s tz.out a"
gzip -c a > tzj.gz; head -c 100 /dev/zero >> tzj.gz; echo x >> tzj.gz
"$WD" gunzip -c tzj.gz > /dev/null 2>&1; rc=$?
check "zeros then garbage: still a warning (exit 2)" sh -c "[ $rc = 2 ]"

# one byte after a member, not zero: the next header cut short, an error as
# in gzip (exit 1, the .gz kept), whichever byte; one zero is padding
for b in 1f 78; do
	gzip -c a > t1.gz; printf "\\x$b" >> t1.gz
	"$WD" gunzip -c t1.gz > t1.out 2>t1.err; rc=$?
	check "one byte 0x$b after a member: exit 1, data out, says so" sh -c \
		"[ $rc = 1 ] && cmp -s t1.out a && grep -q 'unexpected end of file' t1.err"
	rm -f t1
	"$WD" gunzip t1.gz 2>/dev/null
	check "one byte 0x$b after a member: the .gz kept" test -f t1.gz
done
gzip -c a > t0.gz; printf '\000' >> t0.gz
"$WD" gunzip -c t0.gz > t0.out 2>t0.err; rc=$?
check "one zero byte after a member: exit 0, quiet" sh -c "[ $rc = 0 ] && cmp -s t0.out a && [ ! -s t0.err ]"

# RFC 1952: a reserved FLG bit (5-7) set is an error, as in gzip
for bit in 20 40 80; do
	gzip -c a > rf.gz
	printf "\\x$bit" | dd of=rf.gz bs=1 seek=3 conv=notrunc 2>/dev/null
	check_not "reserved flag 0x$bit: error" "$WD" gunzip -c rf.gz
	check_not "reserved flag 0x$bit: -t fails" "$WD" gunzip -t rf.gz
done

# wd gunzip reads a regular file ahead in buffers of 1 MiB: a member's end,
# a member's header (with a long name) and zeros padding the file, each
# placed across that edge, read as gzip reads them (python3's gzip writes
# the members, stored blocks: their sizes are exact)
cat > edges.py <<'PY'
import gzip, io, os, sys
EDGE = 1 << 20
def member(size, name=b""):
    # a member of exactly size bytes: stored data, sized to fit
    data = os.urandom(1)
    for _ in range(3):
        over = len(gz(data, name)) - size
        data = os.urandom(max(0, len(data) - over))
    m = gz(data, name)
    assert len(m) == size, (len(m), size)
    return m
def gz(data, name):
    b = io.BytesIO()
    with gzip.GzipFile(filename=name.decode(), mode="wb", fileobj=b, compresslevel=0,
                       mtime=0) as f:
        f.write(data)
    return b.getvalue()
case, d = sys.argv[1], int(sys.argv[2])
if case == "end":       # the first member ends d bytes from the edge
    out = member(EDGE + d) + gz(b"second member\n", b"")
elif case == "name":    # the second member's 300-byte name crosses the edge
    out = member(EDGE - 150 + d) + gz(b"named\n", b"n" * 300)
else:                   # zeros from d bytes before the edge to past it
    out = member(EDGE - d) + bytes(d + 4096)
sys.stdout.buffer.write(out)
PY
for c in end name zeros; do
	for d in -2 -1 0 1 2; do
		[ $c = zeros ] && [ $d -lt 1 ] && continue
		python3 edges.py $c $d > edge.gz
		check "a $c at the read-ahead edge ($d)" sh -c "'$WD' gunzip -c < edge.gz > edge.wd 2> edge.err &&
			gzip -dc < edge.gz 2>/dev/null | cmp -s - edge.wd && [ ! -s edge.err ]"
	done
done

# gzip's own test on our output
check "gzip -t accepts wd output" sh -c "'$WD' gzip -c big > w.gz && gzip -t w.gz"

echo "$fails failed"
[ "$fails" = 0 ]
