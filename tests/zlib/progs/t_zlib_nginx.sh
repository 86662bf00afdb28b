#!/bin/bash
# nginx under the zlib layer: gzip on for every type, the corpus served
# from a temporary prefix on 127.0.0.1 (a free port); every file fetched
# with curl --compressed (running without the layer) equals the original,
# and was sent gzip-encoded; with HTTP/1.0 too (whole-body buffering) and
# several at once.  nginx passes LD_PRELOAD and WD_ZLIB_STATS to its
# workers (env directives); its error log must have no [alert] (nginx's
# complaint when zlib asks for more than its preallocated block) and no
# [emerg]/[crit]; it stops with nginx -s quit and is waited for.
. "$(dirname "$0")/zl_lib.sh"
need nginx; need curl; need cmp
NGINX=$(command -v nginx)
N=$T/nginx
mkdir -p "$N/www" "$N/logs" "$N/tmp" "$T/got"
for f in "${CORPUS_FILES[@]}"; do cp "$f" "$N/www/"; done
chmod -R a+rX "$N"
# nginx's workers run as www-data when the master is root
WORKER_USER=""
if [ "$(id -u)" = 0 ]; then
	WORKER_USER="user www-data;"
	chown -R www-data "$N/tmp" "$N/logs"
fi
# a free port: bind to port 0 and ask; retried below if taken meanwhile
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_nginx() {
	PORT=$(free_port)
	cat > "$N/nginx.conf" <<CONF
$WORKER_USER
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log info;
env LD_PRELOAD;
env WD_ZLIB_STATS;
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
	gzip on;
	gzip_types *;
	gzip_min_length 0;
	gzip_comp_level 6;
	gzip_http_version 1.0;
	gzip_proxied any;
	server {
		listen 127.0.0.1:$PORT;
		root $N/www;
		location /l1/ { alias $N/www/; gzip_comp_level 1; gzip_buffers 4 4k; }
		location /l9/ { alias $N/www/; gzip_comp_level 9; }
	}
}
CONF
	under_layer "$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log"
}
started=0
for try in 1 2 3; do
	if start_nginx; then started=1; break; fi
done
[ "$started" = 1 ] || { echo "FAIL: nginx did not start"; cat "$N/logs/error.log"; exit 1; }
stop_nginx() {
	[ -f "$N/nginx.pid" ] || return 0
	"$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" -s quit 2>/dev/null
	for i in $(seq 1 100); do
		[ -f "$N/nginx.pid" ] || return 0
		sleep 0.1
	done
	echo "FAIL: nginx did not quit in 10 s"
	kill -9 "$(cat "$N/nginx.pid")" 2>/dev/null
	return 1
}
zl_cleanup_hooks+=(stop_nginx)
# up before the first request (bounded)
for i in $(seq 1 50); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
	sleep 0.1
done
URL=http://127.0.0.1:$PORT
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	for loc in "" l1/ l9/; do
		check "GET /$loc$b, curl --compressed, equal" \
			sh -c "curl -s -f --compressed -o '$T/got/$b' '$URL/$loc$b' && cmp -s '$T/got/$b' '$f'"
	done
	check "  sent gzip-encoded" sh -c "curl -s -f -D - -o /dev/null -H 'Accept-Encoding: gzip' \
		'$URL/$b' | grep -qi '^content-encoding: *gzip'"
	check "  HTTP/1.0, equal" sh -c "curl -s -f -0 --compressed -o '$T/got/$b.10' '$URL/$b' && \
		cmp -s '$T/got/$b.10' '$f'"
done
# several at once, on both workers
pids=()
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	curl -s -f --compressed -o "$T/got/$b.par" "$URL/$b" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for f in "${CORPUS_FILES[@]}"; do
	b=$(basename "$f")
	check "parallel GET /$b, equal" cmp -s "$T/got/$b.par" "$f"
done
check "nginx -s quit, waited for" stop_nginx
check "no [alert], [crit] or [emerg] in nginx's error log" \
	sh -c "! grep -E '\[(alert|crit|emerg)\]' '$N/logs/error.log'"
grep -E '\[(alert|crit|emerg)\]' "$N/logs/error.log" | head -5
zl_require_wd deflate
zl_done
