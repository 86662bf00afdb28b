#!/bin/bash
# pigz under the zlib layer: every corpus file compressed (threads, one
# thread at -9, independent blocks at -1, zlib format) and decompressed;
# the results checked by gzip, cmp and pigz -t running without the layer.
. "$(dirname "$0")/zl_lib.sh"
need pigz; need gzip; need cmp
mkdir -p "$T/w"
cd "$T/w" || exit 1
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	cp "$f" "$b"
	check "pigz $b (2 threads)" under_layer pigz -k -f -p 2 "$b"
	check "  gzip -dc reads it" sh -c "gzip -dc '$b.gz' | cmp -s - '$b'"
	check "  pigz -t accepts it" plain pigz -t "$b.gz"
	check "  pigz -t under the layer accepts it" under_layer pigz -t "$b.gz"
	check "pigz -9 -p 1 $b" sh -c "'$LAYER' pigz -9 -p 1 -c '$b' > '$b.9.gz'"
	check "  gzip -dc reads it" sh -c "gzip -dc '$b.9.gz' | cmp -s - '$b'"
	check "pigz -1 -i (independent blocks) $b" sh -c "'$LAYER' pigz -1 -i -c '$b' > '$b.1.gz'"
	check "  gzip -dc reads it" sh -c "gzip -dc '$b.1.gz' | cmp -s - '$b'"
	check "pigz -z (zlib format) $b" under_layer pigz -k -f -z "$b"
	check "  pigz -dz reads it" sh -c "pigz -d -c -z '$b.zz' | cmp -s - '$b'"
	check "gzip -c $b, pigz -dc under the layer reads it" \
		sh -c "gzip -c '$b' > '$b.g.gz' && '$LAYER' pigz -d -c '$b.g.gz' | cmp -s - '$b'"
	rm -f "$b" "$b".*
done
zl_require_wd deflate
zl_done
