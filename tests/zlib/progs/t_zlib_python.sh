#!/bin/bash
# Debian's python3 under the zlib layer: its zlib module (compress,
# decompress, compressobj/decompressobj in every framing with small
# chunks, flushes, max_length, unused_data) and its gzip module, on every
# corpus file; what it writes is checked by gzip, cmp and a python3
# running without the layer.
. "$(dirname "$0")/zl_lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || { echo "FAIL: $PY is not installed (make deps)"; exit 1; }
need gzip; need cmp
mkdir -p "$T/out"
cat > "$T/layered.py" <<'PYEOF'
import gzip, os, sys, zlib
out, files = sys.argv[1], sys.argv[2:]
fail = 0
def expect(cond, what):
    global fail
    if not cond:
        print("FAIL (in python)", what)
        fail += 1
def section(what, fn):
    # one failing call must not hide the checks after it
    try:
        fn()
    except Exception as e:
        expect(False, "%s: %r" % (what, e))

def one_shot(name, data):
    for level in (-1, 0, 1, 6, 9):
        def run():
            c = zlib.compress(data, level)
            open(os.path.join(out, "%s.%d.zlib" % (name, level)), "wb").write(c)
            expect(zlib.decompress(c) == data, "%s: zlib.decompress of level %d" % (name, level))
        section("%s: zlib.compress level %d" % (name, level), run)

def streaming(name, data, wbits):
    # small pieces, flushes between them
    co = zlib.compressobj(6, zlib.DEFLATED, wbits)
    parts = []
    for i in range(0, len(data), 7919):
        parts.append(co.compress(data[i:i + 7919]))
        if i % 5 == 0:
            parts.append(co.flush(zlib.Z_SYNC_FLUSH))
        elif i % 7 == 0:
            parts.append(co.flush(zlib.Z_FULL_FLUSH))
    parts.append(co.flush())
    c = b"".join(parts)
    open(os.path.join(out, "%s.w%d" % (name, wbits)), "wb").write(c)
    # back in small pieces with max_length, with bytes after the stream
    do = zlib.decompressobj(wbits if wbits < 0 else wbits + 32 if wbits == 15 else wbits)
    back, buf, rest = [], c + b"trailing", b""
    for i in range(0, len(buf), 1000):
        back.append(do.decompress(buf[i:i + 1000], 4096))
        while do.unconsumed_tail and not do.eof:
            back.append(do.decompress(do.unconsumed_tail, 4096))
        if do.eof:
            rest = buf[i + 1000:]
            break
    back.append(do.flush())
    expect(b"".join(back) == data, "%s: decompressobj(%d) in pieces" % (name, wbits))
    # (CPython repeats the tail in unused_data when max_length ends
    # right at the stream's end: the exact count is the C tests' job)
    expect(do.eof and (do.unused_data + rest).endswith(b"trailing"),
           "%s: eof/unused_data after the stream (%r, %r)" % (name, do.eof, do.unused_data[:20]))

def copies(name, data):
    # copies in the middle of a stream (deflateCopy, inflateCopy)
    half = len(data) // 2
    co = zlib.compressobj(1)
    head = co.compress(data[:half])
    co2 = co.copy()
    a = head + co.compress(data[half:]) + co.flush()
    b = head + co2.compress(data[half:]) + co2.flush()
    expect(zlib.decompress(a) == data and zlib.decompress(b) == data,
           name + ": compressobj.copy() in the middle")
    c = zlib.compress(data, 1)
    do = zlib.decompressobj()
    head = do.decompress(c[:len(c) // 2])
    do2 = do.copy()
    a = head + do.decompress(c[len(c) // 2:]) + do.flush()
    b = head + do2.decompress(c[len(c) // 2:]) + do2.flush()
    expect(a == data and b == data, name + ": decompressobj.copy() in the middle")

def gzip_module(name, data):
    # write, and read what plain gzip wrote
    with gzip.open(os.path.join(out, name + ".py.gz"), "wb", compresslevel=6) as g:
        for i in range(0, len(data), 10000):
            g.write(data[i:i + 10000])
    expect(gzip.decompress(gzip.compress(data)) == data, name + ": gzip.compress/decompress")
    with gzip.open(os.path.join(out, name + ".plain.gz"), "rb") as g:
        expect(g.read() == data, name + ": gzip.open of plain gzip's file")
    # a decompressed copy for cmp
    with gzip.open(os.path.join(out, name + ".plain.gz"), "rb") as g, \
         open(os.path.join(out, name + ".back"), "wb") as o:
        while True:
            b = g.read(3000)
            if not b:
                break
            o.write(b)

for path in files:
    name = os.path.basename(path)
    data = open(path, "rb").read()
    one_shot(name, data)
    for wbits in (-15, 15, 31, -9, 9):
        section("%s: streaming windowBits %d" % (name, wbits), lambda: streaming(name, data, wbits))
    section(name + ": copies", lambda: copies(name, data))
    section(name + ": gzip module", lambda: gzip_module(name, data))
sys.exit(1 if fail else 0)
PYEOF
cat > "$T/check.py" <<'PYEOF'
import os, sys, zlib
out, files = sys.argv[1], sys.argv[2:]
fail = 0
def read(name):
    try:
        return open(os.path.join(out, name), "rb").read()
    except OSError:
        return None
for path in files:
    name = os.path.basename(path)
    data = open(path, "rb").read()
    for level in (-1, 0, 1, 6, 9):
        c = read("%s.%d.zlib" % (name, level))
        if c is None or zlib.decompress(c) != data:
            print("FAIL: %s level %d%s" % (name, level, "" if c else ": not written")); fail += 1
    for wbits in (-15, 15, 31, -9, 9):
        c = read("%s.w%d" % (name, wbits))
        d = zlib.decompressobj(wbits)
        if c is None or d.decompress(c) != data or not d.eof:
            print("FAIL: %s windowBits %d%s" % (name, wbits, "" if c else ": not written")); fail += 1
sys.exit(1 if fail else 0)
PYEOF
for f in "${CORPUS_FILES[@]}"; do gzip -c "$f" > "$T/out/$(basename "$f").plain.gz"; done
check "python3 zlib and gzip modules under the layer" \
	under_layer $PY "$T/layered.py" "$T/out" "${CORPUS_FILES[@]}"
check "python3 without the layer reads the zlib module's streams" \
	plain $PY "$T/check.py" "$T/out" "${CORPUS_FILES[@]}"
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	check "gzip -dc reads the gzip module's $b.py.gz" \
		sh -c "gzip -dc '$T/out/$b.py.gz' | cmp -s - '$f'"
	check "the gzip module's reading of gzip's $b" cmp -s "$T/out/$b.back" "$f"
done
zl_require_wd deflate
zl_require_wd inflate
zl_done
