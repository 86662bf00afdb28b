#!/bin/sh
# Compile and run a small program against an installed libwd, found through
# pkg-config only, as C and as C++, linked shared and static.
set -eu
prefix="$1"
src=$(dirname "$0")/consumer.c
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig:$prefix/lib64/pkgconfig"
pc="pkg-config --define-prefix"
cflags=$($pc --cflags libwd)
libs=$($pc --libs libwd)
libdir=$($pc --variable=libdir libwd)
cc -std=c11 -Wall -Wextra -Werror $cflags "$src" -o "$out/c" $libs
c++ -x c++ -std=c++11 -Wall -Wextra -Werror $cflags "$src" -o "$out/cxx" $libs
cc -std=c11 -Wall -Werror $cflags "$src" -o "$out/static" -Wl,-Bstatic $libs -Wl,-Bdynamic \
   $($pc --libs --static libwd | sed 's/-lwd//')
LD_LIBRARY_PATH="$libdir" "$out/c"
LD_LIBRARY_PATH="$libdir" "$out/cxx"
"$out/static"
echo "install check: C, C++ and static consumers ok"

# The OpenSSL provider: installed in OpenSSL's module directory under the
# prefix, it finds the installed libwd by itself, exports its entry point
# only, and ciphers through the openssl command like the default provider.
mod=$(find "$prefix" -name wd.so -path '*ossl-modules*' | head -1)
[ -n "$mod" ] || { echo "install check: no wd.so under $prefix"; exit 1; }
[ "$(nm -D --defined-only "$mod" | awk '{print $3}')" = OSSL_provider_init ] ||
	{ echo "install check: wd.so exports more than OSSL_provider_init"; exit 1; }
if command -v openssl >/dev/null; then
	moddir=$(dirname "$mod")
	openssl list -providers -provider-path "$moddir" -provider wd |
		grep -q "WarpDrive provider" || { echo "install check: wd does not load"; exit 1; }
	k=000102030405060708090a0b0c0d0e0f
	head -c 100000 /dev/urandom > "$out/plain"
	WD_PROV_THRESHOLD=0 openssl enc -aes-128-cbc -K $k -iv $k -in "$out/plain" -out "$out/wd" \
		-provider-path "$moddir" -provider wd -provider default -propquery provider=wd
	openssl enc -d -aes-128-cbc -K $k -iv $k -in "$out/wd" -out "$out/back"
	cmp -s "$out/plain" "$out/back" || { echo "install check: wd's ciphertext is wrong"; exit 1; }
	echo "install check: provider $mod loads and ciphers"
fi
