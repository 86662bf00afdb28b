# Shared by the real-program tests of the zlib layer (sourced).
# usage of a test: t_X.sh PRELOAD CORPUS_DIR
#   PRELOAD: what LD_PRELOAD must hold for the layer (the layer, with a
#   sanitizer runtime before it in sanitizer builds).
# The programs under test run with the layer (under_layer); everything that
# checks their output runs without it (plain), and so does this shell: the
# layer is exported to nothing else.  Every layered process appends its
# statistics line to one file, which must show work on WarpDrive.
set -u
ZL_PRELOAD=${1:?usage: $0 PRELOAD CORPUS_DIR}
CORPUS=$(realpath "${2:?usage: $0 PRELOAD CORPUS_DIR}" 2>/dev/null) || CORPUS=$2
unset LD_PRELOAD WD_ZLIB_STATS
for lib in $(echo "$ZL_PRELOAD" | tr ':' ' '); do
	[ -f "$lib" ] || { echo "FAIL: no such library $lib"; exit 1; }
done
# The corpus is part of the repository: missing or empty is a failure.
[ -d "$CORPUS" ] || { echo "FAIL: corpus '$CORPUS' missing (corpus/README.md)"; exit 1; }
CORPUS_FILES=()
for f in "$CORPUS"/*; do
	case "$(basename "$f")" in README*|.*) continue;; esac
	[ -f "$f" ] && CORPUS_FILES+=("$f")
done
[ "${#CORPUS_FILES[@]}" -gt 0 ] || { echo "FAIL: corpus $CORPUS has no files"; exit 1; }

T=$(mktemp -d /tmp/t_zlib_prog.XXXXXX)
chmod 755 "$T"
ZL_STATS=$T/stats
: > "$ZL_STATS"
chmod 666 "$ZL_STATS"
zl_cleanup_hooks=()
zl_cleanup() {
	local h
	for h in "${zl_cleanup_hooks[@]+"${zl_cleanup_hooks[@]}"}"; do eval "$h"; done
	rm -rf "$T"
}
trap zl_cleanup EXIT

# Third-party programs leak by design at exit: under a sanitizer runtime
# only the layer's errors count, not their leaks.
ZL_ASAN_OPTIONS=${ASAN_OPTIONS:-}
case "$ZL_PRELOAD" in
*libasan*) ZL_ASAN_OPTIONS="${ZL_ASAN_OPTIONS:+$ZL_ASAN_OPTIONS:}detect_leaks=0";;
esac

# $LAYER CMD...: runs CMD with the layer (usable inside sh -c pipelines)
LAYER=$T/layer
cat > "$LAYER" <<WRAP
#!/bin/sh
exec env LD_PRELOAD='$ZL_PRELOAD' WD_ZLIB_STATS='$ZL_STATS' ASAN_OPTIONS='$ZL_ASAN_OPTIONS' "\$@"
WRAP
chmod 755 "$LAYER"
under_layer() { # run a command with the layer
	"$LAYER" "$@"
}
plain() { # run a command without it
	env -u LD_PRELOAD -u WD_ZLIB_STATS "$@"
}
need() { # a tool the test needs: the Makefile's DEB_PKGS installs it; missing is a failure
	command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed (make deps)"; exit 1; }
}

fails=0
check() { # check NAME CMD...: the command must succeed
	local name="$1"; shift
	if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# The sum of the statistics lines: the layered processes must have run
# streams on WarpDrive (deflate.wd or inflate.wd > 0, and in.wd > 0).
zl_require_wd() { # zl_require_wd [deflate|inflate|any]
	local what=${1:-any} sums
	sums=$(awk '
		/^wd-zlib: / {
			lines++
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] ~ /^(deflate|inflate)\.(wd|zlib)$|^(in|out)\.(wd|zlib)$|^why\./)
					sum[kv[1]] += kv[2]
			}
		}
		END {
			printf "lines=%d", lines
			for (k in sum) printf " %s=%d", k, sum[k]
			printf "\n"
		}' "$ZL_STATS")
	echo "stats: $sums"
	local dw iw inw
	dw=$(echo "$sums" | tr ' ' '\n' | sed -n 's/^deflate\.wd=//p'); dw=${dw:-0}
	iw=$(echo "$sums" | tr ' ' '\n' | sed -n 's/^inflate\.wd=//p'); iw=${iw:-0}
	inw=$(echo "$sums" | tr ' ' '\n' | sed -n 's/^in\.wd=//p'); inw=${inw:-0}
	case "$what" in
	deflate) check "work went through WarpDrive (deflate.wd $dw, in.wd $inw)" \
		test "$dw" -gt 0 -a "$inw" -gt 0;;
	inflate) check "work went through WarpDrive (inflate.wd $iw, in.wd $inw)" \
		test "$iw" -gt 0 -a "$inw" -gt 0;;
	*) check "work went through WarpDrive (deflate.wd $dw, inflate.wd $iw, in.wd $inw)" \
		test $((dw + iw)) -gt 0 -a "$inw" -gt 0;;
	esac
}

zl_done() {
	if [ "$fails" -gt 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
