#!/bin/sh
# The wd provider under the openssl command: it loads with -provider-path
# and from an openssl.cnf and describes itself; `openssl enc` of every
# corpus file through wd gives the default provider's bytes (threshold 0:
# every piece through a queue, and the defaults), and decrypts them back;
# `openssl speed` runs (bounded) and its statistics show queue work, and
# with -async_jobs 8 the jobs' requests in flight together (async.max), or,
# by default on the in-process device, run in the jobs' thread.
# usage: t_prov_openssl.sh MODULE_DIR CORPUS_DIR [SANITIZER_RUNTIME]
# (the runtime is preloaded into openssl when wd.so is a sanitizer build)
set -eu
mod=$1
corpus=$2
pre=${3:-}
# openssl, with the runtime preloaded into it alone (not into the shell's tools)
ossl() { if [ -n "$pre" ]; then LD_PRELOAD="$pre" openssl "$@"; else openssl "$@"; fi; }
command -v openssl >/dev/null || { echo "no openssl command: skipped"; exit 77; }
[ -f "$mod/wd.so" ] || { echo "no $mod/wd.so"; exit 1; }
files=$(find "$corpus" -maxdepth 1 -type f ! -name README.md ! -name '.*' | sort)
[ -n "$files" ] || { echo "empty corpus $corpus"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
WD="-provider-path $mod -provider wd -provider default -propquery ?provider=wd"
K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
IV=f0e0d0c0b0a090807060504030201000

# --- loading and describing
ossl list -providers -verbose -provider-path "$mod" -provider wd > "$tmp/list"
grep -q "name: WarpDrive provider" "$tmp/list" || fail "no name in: $(cat "$tmp/list")"
grep -q "status: active" "$tmp/list" || fail "not active"
grep -q "wd-stats" "$tmp/list" || fail "no wd-stats parameter listed"
cat > "$tmp/openssl.cnf" <<EOF
openssl_conf = init
[init]
providers = provs
[provs]
wd = wd_sect
default = def_sect
[wd_sect]
module = $mod/wd.so
activate = 1
threshold = 0
[def_sect]
activate = 1
EOF
OPENSSL_CONF="$tmp/openssl.cnf" ossl list -providers > "$tmp/list2"
grep -q "WarpDrive provider" "$tmp/list2" || fail "not loaded from openssl.cnf"

# --- enc: every corpus file, both ways, against the default provider
for th in 0 default; do
	if [ $th = 0 ]; then export WD_PROV_THRESHOLD=0; else unset WD_PROV_THRESHOLD; fi
	export WD_PROV_STATS="$tmp/stats.$th"
	for c in aes-128-cbc aes-192-cbc aes-256-cbc aes-128-ctr aes-256-ctr; do
		kl=$(ossl enc -$c -P -K $K -iv $IV -nosalt 2>/dev/null | sed -n 's/^key=//p' | wc -c)
		key=$(echo $K | cut -c1-$((kl - 1)))
		for f in $files; do
			b=$(basename "$f")
			ossl enc -e -$c -K "$key" -iv $IV -in "$f" -out "$tmp/ref" 2>/dev/null
			ossl enc -e -$c $WD -K "$key" -iv $IV -in "$f" -out "$tmp/wd"
			cmp -s "$tmp/ref" "$tmp/wd" || fail "enc -$c $b (threshold $th) differs"
			ossl enc -d -$c $WD -K "$key" -iv $IV -in "$tmp/ref" -out "$tmp/back"
			cmp -s "$f" "$tmp/back" || fail "enc -d -$c $b (threshold $th) differs"
		done
	done
	# a password, PBKDF2 from the default provider, the cipher from wd
	f=$(echo "$files" | head -1)
	ossl enc -e -aes-256-cbc -pbkdf2 -S 0102030405060708 -pass pass:wd -in "$f" \
		-out "$tmp/ref" 2>/dev/null
	ossl enc -e -aes-256-cbc -pbkdf2 $WD -S 0102030405060708 -pass pass:wd -in "$f" \
		-out "$tmp/wd"
	cmp -s "$tmp/ref" "$tmp/wd" || fail "enc -pbkdf2 (threshold $th) differs"
done
unset WD_PROV_THRESHOLD
cat "$tmp/stats.0" | head -2
wdops=$(cat "$tmp/stats.0" | sed -n 's/.* ops\.wd=\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
[ "$wdops" -gt 0 ] || fail "threshold 0: no work went to a queue"
echo "enc: $(echo "$files" | wc -l) files x 5 ciphers x 2 settings, $wdops queue operations"

# --- speed, bounded: the statistics show queue work at the default threshold
export WD_PROV_STATS="$tmp/stats.speed"
timeout 120 env ${pre:+LD_PRELOAD=$pre} openssl speed $WD -evp aes-128-cbc -seconds 1 > "$tmp/speed" 2>&1 ||
	fail "openssl speed failed: $(tail -5 "$tmp/speed")"
tail -3 "$tmp/speed"
cat "$tmp/stats.speed"
grep -q "ops.wd=[1-9]" "$tmp/stats.speed" || fail "openssl speed: no queue work"

# --- speed with ASYNC_JOBs: one thread keeps eight jobs' requests in flight
# on one queue (16 KiB CBC encryption: the default threshold sends it
# there); async = yes, as soft0 is in-process (async = auto runs a job's
# piece in its thread there: below)
export WD_PROV_STATS="$tmp/stats.async"
timeout 120 env ${pre:+LD_PRELOAD=$pre} WD_PROV_ASYNC=yes openssl speed $WD -evp aes-128-cbc \
	-async_jobs 8 -seconds 1 -bytes 16384 > "$tmp/speed.async" 2>&1 ||
	fail "openssl speed -async_jobs failed: $(tail -5 "$tmp/speed.async")"
tail -2 "$tmp/speed.async"
cat "$tmp/stats.async"
grep -q " async=[1-9]" "$tmp/stats.async" || fail "openssl speed -async_jobs: no job's request"
max=$(sed -n 's/.* async\.max=\([0-9]*\).*/\1/p' "$tmp/stats.async")
[ "${max:-0}" -ge 2 ] || fail "openssl speed -async_jobs 8: never two requests in flight"

# --- the same with the default, async = auto: on the in-process device the
# jobs' pieces run in their own thread, counted as async.inline, none paused
export WD_PROV_STATS="$tmp/stats.auto"
timeout 120 env ${pre:+LD_PRELOAD=$pre} openssl speed $WD -evp aes-128-cbc -async_jobs 8 \
	-seconds 1 -bytes 16384 > "$tmp/speed.auto" 2>&1 ||
	fail "openssl speed -async_jobs (auto) failed: $(tail -5 "$tmp/speed.auto")"
tail -2 "$tmp/speed.auto"
cat "$tmp/stats.auto"
grep -q " async.inline=[1-9]" "$tmp/stats.auto" || fail "async = auto: no job's piece run inline"
grep -q " async=" "$tmp/stats.auto" && fail "async = auto: a job paused on the in-process device"
grep -q "ops.wd=[1-9]" "$tmp/stats.auto" || fail "async = auto: no queue work"
echo "t_prov_openssl: ok"
