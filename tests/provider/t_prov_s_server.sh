#!/bin/bash
# openssl s_server and s_client over the wd provider (OPENSSL_CONF loads
# wd beside the default provider and prefers it, threshold 0): TLS 1.3
# with TLS_AES_256_GCM_SHA384 and TLS 1.2 with an AES-CBC suite
# (ECDHE-ECDSA-AES128-SHA256), on 127.0.0.1.  s_client asks for
# s_server's -www page (s_server serves one connection and ends); the
# negotiated cipher must be the one asked for, and the statistics lines of
# both processes must show records sealed through a queue.
# usage: t_prov_s_server.sh MODULE_DIR [SANITIZER_RUNTIME]
set -eu
. "$(dirname "$0")/tp_conf.sh"
mod=$1
pre=${2:-}
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
T=$(mktemp -d)
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/server.log" ] && tail -20 "$T/server.log"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -nodes -subj /CN=localhost 2>/dev/null
tp_conf "$T/openssl.cnf" "$mod" "$T/stats"
run() { env OPENSSL_CONF="$T/openssl.cnf" ${pre:+LD_PRELOAD=$pre} \
	${pre:+ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0} "$@"; }
# a free port: the kernel picks one for a listener we close at once
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# one session of protocol $1 (s_client's option) and cipher option $2 $3
session() {
	: > "$T/stats"
	# a fresh log: the last session's ACCEPT must not count as this one's
	rm -f "$T/server.log"
	run openssl s_server -accept "127.0.0.1:$port" -cert "$T/cert.pem" -key "$T/key.pem" \
		-www -naccept 1 $1 $2 "$3" > "$T/server.log" 2>&1 &
	spid=$!
	for i in $(seq 100); do
		grep -q ACCEPT "$T/server.log" 2>/dev/null && break
		sleep 0.1
	done
	printf 'GET / HTTP/1.0\r\n\r\n' |
		run timeout 30 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
			-ign_eof $1 $2 "$3" > "$T/client.log" 2>&1 || fail "s_client $1 $3"
	for i in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$spid" 2>/dev/null && fail "s_server did not end after one connection"
	wait "$spid" || fail "s_server $1 $3 failed"
	spid=
	grep -q "Cipher is $3" "$T/client.log" || fail "s_client did not use $3: $(grep Cipher "$T/client.log")"
	grep -q "Ciphers supported in s_server binary" "$T/client.log" || fail "no -www page"
	cat "$T/stats"
	[ "$(grep -c "wd-prov: pid=" "$T/stats")" -eq 2 ] || fail "two statistics lines wanted"
	# both ends sealed records through a queue
	[ "$(awk '/wd-prov:/ { for (i = 1; i <= NF; i++) if ($i ~ /^ops\.wd=/) { split($i, a, "="); if (a[2] > 0) n++ } } END { print n + 0 }' "$T/stats")" -eq 2 ] ||
		fail "not both ends sent records through a queue"
	echo "  $1 $3: ok"
}
session -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
session -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256
echo "t_prov_s_server: ok"
