#!/bin/sh
# Every symbol libwd.so exports starts with wd_ and carries a version node.
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^wd_' | grep -v '^WD_')
if [ -n "$bad" ]; then echo "exported without the wd_ prefix: $bad"; exit 1; fi
n=$(nm -D --defined-only "$lib" | grep -c ' T wd_.*@@WD_')
[ "$n" -gt 10 ] || { echo "too few versioned wd_ symbols: $n"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in libwd.so.[0-9]*) ;; *) echo "bad SONAME: $soname"; exit 1;; esac
echo "ok: $n exported symbols, SONAME $soname"
# ... and every exported function has its manual page.
man3="$2"
if [ -n "$man3" ]; then
	missing=$(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' |
		sort -u | while read -r s; do [ -e "$man3/$s.3" ] || echo "$s"; done)
	if [ -n "$missing" ]; then echo "no manual page: $missing"; exit 1; fi
	echo "ok: every exported function has a page in $man3"
fi
