#!/bin/bash
# nginx and curl over the wd provider: nginx serves the corpus over HTTPS
# (TLS 1.3 and TLS 1.2 AES-GCM) with OPENSSL_CONF loading wd beside the
# default provider and preferring it (threshold 0: every record to a
# queue, or with the reason to the default provider), its workers forked
# from the master after the provider loaded (they go on with queues of
# their own); curl fetches every file with the same configuration.  Every
# file must arrive intact, and the statistics lines of the workers and of
# curl must account for the work.  nginx stops with -s quit.
# usage: t_prov_nginx.sh MODULE_DIR CORPUS_DIR [SANITIZER_RUNTIME]
set -eu
. "$(dirname "$0")/tp_conf.sh"
mod=$1
corpus=$2
pre=${3:-}
for p in nginx curl openssl python3; do
	command -v $p >/dev/null || { echo "no $p: skipped"; exit 77; }
done
T=$(mktemp -d)
N=$T/nginx
cleanup() {
	[ -f "$N/nginx.pid" ] && kill "$(cat "$N/nginx.pid")" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$N/logs/error.log" ] && tail -20 "$N/logs/error.log"; exit 1; }
mkdir -p "$N/www" "$N/logs" "$N/tmp" "$T/got"
files=$(find "$corpus" -maxdepth 1 -type f ! -name README.md ! -name '.*' | sort)
for f in $files; do cp "$f" "$N/www/"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$N/key.pem" \
	-out "$N/cert.pem" -days 1 -nodes -subj /CN=localhost 2>/dev/null
: > "$T/stats"
chmod 666 "$T/stats"
chmod -R a+rX "$T"
WORKER_USER=""
if [ "$(id -u)" = 0 ]; then
	WORKER_USER="user www-data;"
	chown -R www-data "$N/tmp" "$N/logs"
fi
tp_conf "$T/openssl.cnf" "$mod" "$T/stats"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$N/nginx.conf" <<CONF
$WORKER_USER
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log info;
env OPENSSL_CONF;
env LD_PRELOAD;
env ASAN_OPTIONS;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate $N/cert.pem;
		ssl_certificate_key $N/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384;
		root $N/www;
	}
}
CONF
run() { env OPENSSL_CONF="$T/openssl.cnf" ${pre:+LD_PRELOAD=$pre} \
	${pre:+ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0} "$@"; }
# curl with a sanitizer runtime preloaded hangs in setlocale before it
# reaches OpenSSL (Debian 12's curl, with or without wd): under a
# sanitizer build only nginx runs over wd, curl over the stock provider
if [ -n "$pre" ]; then
	client() { "$@"; }
	crossings=2
else
	client() { run "$@"; }
	crossings=4
fi
run nginx -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" || fail "nginx did not start"
for i in $(seq 50); do [ -f "$N/nginx.pid" ] && break; sleep 0.1; done
for tls in --tlsv1.3 "--tlsv1.2 --tls-max 1.2"; do
	for f in $files; do
		b=$(basename "$f")
		client curl -sk $tls -o "$T/got/$b" "https://127.0.0.1:$PORT/$b" || fail "curl $tls $b"
		cmp -s "$f" "$T/got/$b" || fail "$b arrived different ($tls)"
	done
done
run nginx -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" -s quit
for i in $(seq 100); do [ -f "$N/nginx.pid" ] || break; sleep 0.1; done
[ -f "$N/nginx.pid" ] && fail "nginx did not stop"
! grep -E "\[(alert|emerg|crit)\]" "$N/logs/error.log" || fail "nginx complained"
cat "$T/stats"
total=$(sed -n 's/.* bytes\.wd=\([0-9]*\) .*/\1/p' "$T/stats" | awk '{s += $1} END {print s + 0}')
corpus_bytes=$(cat $files | wc -c)
# each file crossed twice (TLS 1.3, TLS 1.2), encrypted by a worker and
# decrypted by curl: at threshold 0 every GCM record goes to a queue
[ "$total" -ge $((crossings * corpus_bytes)) ] ||
	fail "queues ran $total bytes, not >= $crossings x $corpus_bytes"
[ "$(grep -c "wd-prov: pid=" "$T/stats")" -ge 2 ] || fail "too few statistics lines"
echo "t_prov_nginx: ok"
