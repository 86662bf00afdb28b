#!/bin/bash
# git under the zlib layer: a repository of the corpus (loose objects are
# zlib streams), a second commit with every file changed (deltas), gc and
# repack (pack-objects deflates, index-pack inflates), reads of every
# blob; then git fsck --full and the blobs read back without the layer.
. "$(dirname "$0")/zl_lib.sh"
need git; need cmp
export HOME=$T GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@localhost \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@localhost
R=$T/repo
check "git init" plain git init -q "$R"
cd "$R" || exit 1
for f in "${CORPUS_FILES[@]}"; do cp "$f" .; done
check "git add (loose objects deflated)" under_layer git add .
check "git commit" under_layer git commit -q -m corpus
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	head -c 5000 "$f" >> "$b"
done
check "git commit -a (changed files)" under_layer git commit -q -a -m changed
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	check "git show HEAD~1:$b under the layer" \
		sh -c "'$LAYER' git show 'HEAD~1:$b' | cmp -s - '$f'"
done
check "git gc --aggressive (pack-objects)" under_layer git gc -q --aggressive --prune=now
check "git repack -a -d -f" under_layer git repack -q -a -d -f
check "git log -p of a file" sh -c "'$LAYER' git log -p -- alice29.txt > '$T/log.txt'"
check "git fsck --full without the layer" plain git fsck --full --strict --no-progress
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	check "git show HEAD~1:$b without the layer" sh -c "git show 'HEAD~1:$b' | cmp -s - '$f'"
	check "git show HEAD:$b without the layer" sh -c "git show 'HEAD:$b' | cmp -s - '$b'"
done
check "git log -p under the layer matches" sh -c "git log -p -- alice29.txt | cmp -s - '$T/log.txt'"
# a clone through the layer: index-pack inflates and checks every object
check "git clone --no-local under the layer" under_layer git clone -q --no-local "$R" "$T/clone"
check "  git fsck --full of the clone without the layer" \
	plain git -C "$T/clone" fsck --full --strict --no-progress
zl_require_wd any
zl_done
