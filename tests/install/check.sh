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
