#!/bin/sh
# Python's ssl module over the wd provider, as a program gets it: an
# openssl.cnf (OPENSSL_CONF) that loads wd beside the default provider and
# makes it preferred (default_properties = ?provider=wd).  A client and a
# server in one python3 process exchange 1 MiB both ways over TLS 1.3 and
# TLS 1.2 AES-GCM; the bytes must come back and the statistics line show
# the provider's ciphers did the work (at threshold 0, through a queue or,
# where the engine lacks the mode, the default provider with the reason).
# usage: t_prov_python.sh MODULE_DIR [SANITIZER_RUNTIME]
set -eu
. "$(dirname "$0")/tp_conf.sh"
mod=$1
pre=${2:-}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
python3 -c 'import ssl' 2>/dev/null || { echo "python3 without ssl: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" -days 1 -nodes -subj /CN=localhost 2>/dev/null
tp_conf "$tmp/openssl.cnf" "$mod" "$tmp/stats"
cat > "$tmp/t.py" <<'PY'
import os, socket, ssl, sys, threading
d = sys.argv[1]
srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv.load_cert_chain(d + "/cert.pem", d + "/key.pem")
cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cli.check_hostname = False
cli.verify_mode = ssl.CERT_NONE
if len(sys.argv) > 2:
    cli.maximum_version = ssl.TLSVersion.TLSv1_2
    cli.set_ciphers(sys.argv[2])
a, b = socket.socketpair()
data = os.urandom(1 << 20)
def serve():
    s = srv.wrap_socket(a, server_side=True)
    got = b""
    while len(got) < len(data):
        got += s.recv(65536)
    s.sendall(got)
    s.close()
t = threading.Thread(target=serve)
t.start()
c = cli.wrap_socket(b, server_hostname="localhost")
c.sendall(data)
back = b""
while len(back) < len(data):
    back += c.recv(65536)
t.join()
print(c.version(), c.cipher()[0])
sys.exit(0 if back == data else 1)
PY
for suite in "" ECDHE-ECDSA-AES128-GCM-SHA256; do
	: > "$tmp/stats"
	# (under a sanitizer, python's own leaks at exit are not this test's)
	env OPENSSL_CONF="$tmp/openssl.cnf" ${pre:+LD_PRELOAD=$pre} \
		${pre:+ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0} python3 "$tmp/t.py" "$tmp" $suite ||
		fail "python3 ssl ${suite:-TLS 1.3}: the bytes did not come back"
	cat "$tmp/stats"
	grep -q "wd-prov: pid=" "$tmp/stats" || fail "no statistics line"
	n=$(sed -n 's/.* bytes\.wd=\([0-9]*\) .* bytes\.sw=\([0-9]*\).*/\1 \2/p' "$tmp/stats" |
		awk '{print $1 + $2}')
	[ "${n:-0}" -ge 2097152 ] || fail "the provider ran $n bytes, not the 2 MiB sent"
done
echo "t_prov_python: ok"
