#!/bin/bash
# Build the guest for the VM test rig: a Debian kernel (downloaded once into
# a cache) and an initramfs holding busybox, the kernel modules the rig needs
# (VFIO, virtio-crypto, AF_ALG, with their dependencies), the guest /init and
# the test programs with their shared libraries at their host paths.
#
# usage: mkvm.sh [-o OUTDIR] [-m MODULE]... [-f PATH]... BUILD_DIR CACHE_DIR [TEST]...
#
#   TEST      a host program (absolute or relative path), optionally followed
#             by arguments in the same word: "build/tests/t_foo --quick".
#             It runs in the guest under the same absolute path; so does
#             any argument that is the absolute path of a host file (with
#             its shared libraries), e.g. a module the program loads.
#   -o DIR    where vmlinuz, initrd.img and kernel-version go (BUILD_DIR/vm)
#   -m MOD    one more kernel module to ship and load (with its dependencies);
#             also WDVM_MODULES="mod1 mod2" in the environment
#   -f PATH   a host file or directory to copy into the guest at the same path
#
# Environment: WDVM_KERNEL_PKG (e.g. linux-image-6.1.0-56-amd64) pins the
# kernel package; otherwise the one linux-image-amd64 depends on, or the
# newest already in the cache when apt cannot say.
#
# Exit status: 0 built, 77 a prerequisite is missing (the caller skips),
# anything else an error.
set -euo pipefail

SKIP=77
die() { echo "mkvm: $*" >&2; exit 1; }
skip() { echo "mkvm: SKIP: $*" >&2; exit $SKIP; }
note() { echo "mkvm: $*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=""
extra_mods=()
extra_files=()
while getopts "o:m:f:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	m) extra_mods+=("$OPTARG") ;;
	f) extra_files+=("$OPTARG") ;;
	h) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || die "usage: mkvm.sh [-o OUTDIR] [-m MOD]... [-f PATH]... BUILD_DIR CACHE_DIR [TEST]..."
build=$(cd "$1" && pwd) || die "no build dir $1"
mkdir -p "$2"
cache=$(cd "$2" && pwd)
shift 2
[ -n "$outdir" ] || outdir=$build/vm
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
# shellcheck disable=SC2206
[ -z "${WDVM_MODULES:-}" ] || extra_mods+=(${WDVM_MODULES})

# ---------------------------------------------------------------- host tools
for t in cpio gzip dpkg-deb ldd find; do
	command -v $t >/dev/null || skip "host tool '$t' is missing (apt-get install cpio gzip dpkg libc-bin findutils)"
done
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	# A static busybox: ldd refuses it ("not a dynamic executable").
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || skip "no static busybox (apt-get install busybox-static)"

# ---------------------------------------------------------------- the kernel
# The cache holds one directory per kernel package: the unpacked .deb plus a
# modules.dep (the .deb ships none; busybox depmod writes one once).
exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache"

pkg=${WDVM_KERNEL_PKG:-}
if [ -z "$pkg" ] && command -v apt-cache >/dev/null; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1) || true
fi
if [ -z "$pkg" ] || [ ! -e "$cache/$pkg/.done" ]; then
	if [ -n "$pkg" ]; then
		note "downloading $pkg (once; cached in $cache)"
		rm -rf "${cache:?}/${pkg:?}" "$cache/dl"
		mkdir -p "$cache/dl"
		# apt drops to user _apt for downloads when it can; let it write here.
		chmod 0777 "$cache/dl" 2>/dev/null || true
		get() { (cd "$cache/dl" && apt-get download -q "$pkg" >/dev/null 2>"$cache/dl/apt.err"); }
		if ! get && [ "$(id -u)" = 0 ]; then
			note "apt-get download failed; trying apt-get update"
			apt-get update -qq >/dev/null 2>&1 || true
			get || true
		fi
		deb=$(ls "$cache"/dl/*.deb 2>/dev/null | head -n1) || true
		if [ -n "$deb" ]; then
			mkdir -p "$cache/$pkg.tmp"
			dpkg-deb -x "$deb" "$cache/$pkg.tmp" || die "cannot unpack $deb"
			rm -rf "${cache:?}/${pkg:?}"
			mv "$cache/$pkg.tmp" "$cache/$pkg"
			rm -rf "$cache/dl"
		else
			note "cannot download $pkg: $(tail -n1 "$cache/dl/apt.err" 2>/dev/null)"
		fi
	fi
	if [ ! -d "$cache/${pkg:-none}/boot" ]; then
		# No apt answer or no download: fall back on any kernel already cached.
		alt=$(ls -d "$cache"/linux-image-*/.done 2>/dev/null | sort -V | tail -n1) || true
		[ -n "$alt" ] || skip "no kernel: cannot download ${pkg:-the kernel of linux-image-amd64} and none cached in $cache"
		pkg=$(basename "$(dirname "$alt")")
		note "using the cached $pkg"
	fi
fi
kroot=$cache/$pkg
vmlinuz=$(ls "$kroot"/boot/vmlinuz-* 2>/dev/null | head -n1) || true
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $kroot"
kver=${vmlinuz##*/vmlinuz-}
mdir=$kroot/lib/modules/$kver
[ -d "$mdir" ] || die "no lib/modules/$kver in $kroot"
if [ ! -s "$mdir/modules.dep" ]; then
	note "generating modules.dep for $kver (busybox depmod, once)"
	"$busybox" depmod -b "$kroot" "$kver" || die "depmod failed"
fi
touch "$kroot/.done"
exec 9>&-

# ------------------------------------------------------- module dependencies
# Names are compared with '-' folded to '_', as the kernel does.
declare -A mpath mdeps
while IFS= read -r line; do
	m=${line%%:*}
	n=${m##*/}; n=${n%%.ko*}; n=${n//-/_}
	mpath[$n]=$m
	mdeps[$n]=${line#*:}
done <"$mdir/modules.dep"
declare -A builtin
if [ -f "$mdir/modules.builtin" ]; then
	while IFS= read -r m; do
		n=${m##*/}; n=${n%%.ko*}; builtin[${n//-/_}]=1
	done <"$mdir/modules.builtin"
fi

declare -A seen
order=()
# Depth-first: every dependency lands in $order before the module needing it.
resolve() {
	local n=${1//-/_} d dn
	[ -z "${seen[$n]:-}" ] || return 0
	seen[$n]=1
	if [ -z "${mpath[$n]:-}" ]; then
		if [ -n "${builtin[$n]:-}" ]; then
			note "module $n is built into $kver"
		else
			note "module $n is not in $kver (merged into another one?); skipped"
		fi
		return 0
	fi
	for d in ${mdeps[$n]}; do
		dn=${d##*/}; dn=${dn%%.ko*}
		resolve "$dn"
	done
	order+=("$n")
}

# Phase 1 (loaded before any device is bound): VFIO. Phase 2 (after the
# devices for VFIO are claimed): the kernel's virtio-crypto driver and AF_ALG,
# for comparisons, plus whatever the caller asked for.
vfio_mods=(irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio_pci_core vfio_pci)
rest_mods=(virtio_pci virtio_crypto crypto_engine af_alg algif_skcipher algif_hash
	algif_aead algif_rng ecb ctr xts aesni_intel sha512_generic "${extra_mods[@]}")
for m in "${vfio_mods[@]}"; do resolve "$m"; done
n_vfio=${#order[@]}
for m in "${rest_mods[@]}"; do resolve "$m"; done

# ---------------------------------------------------------------- the tree
stage=$outdir/initrd.d
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc/wdvm,root}
cp "$busybox" "$stage/bin/busybox"
# /init runs "busybox --install -s" first (quicker than 400 links here).
ln -s busybox "$stage/bin/sh"
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	mknod -m 666 "$stage/dev/null" c 1 3 2>/dev/null || true
fi

# Modules, decompressed (busybox insmod takes plain .ko).
gmdir=$stage/lib/modules/$kver
mkdir -p "$gmdir"
put_module() {
	local src=$mdir/$1 dst=$gmdir/${1%.xz}
	dst=${dst%.zst}; dst=${dst%.gz}
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.xz) xz -dc "$src" >"$dst" ;;
	*.zst) zstd -qdc "$src" >"$dst" ;;
	*.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
	echo "${dst#"$stage"}"
}
: >"$stage/etc/wdvm/modules.vfio"
: >"$stage/etc/wdvm/modules.rest"
i=0
for n in "${order[@]}"; do
	p=$(put_module "${mpath[$n]}")
	if [ $i -lt "$n_vfio" ]; then echo "$p" >>"$stage/etc/wdvm/modules.vfio"
	else echo "$p" >>"$stage/etc/wdvm/modules.rest"; fi
	i=$((i + 1))
done
for f in modules.builtin modules.order; do
	[ ! -f "$mdir/$f" ] || cp "$mdir/$f" "$gmdir/"
done
# A modules.dep/alias for the shipped subset, so modprobe (and the kernel's
# request_module, e.g. for a crypto template) works in the guest.
"$busybox" depmod -b "$stage" "$kver" 2>/dev/null || note "depmod of the guest subset failed (modprobe will not work in the guest)"

# Host files at their own paths, with their shared libraries and loader.
declare -A copied
copy_path() {
	local p=$1
	[ -z "${copied[$p]:-}" ] || return 0
	copied[$p]=1
	mkdir -p "$stage$(dirname "$p")"
	cp -L "$p" "$stage$p"
}
copy_with_libs() {
	local p=$1 lib
	copy_path "$p"
	if ldd "$p" 2>/dev/null | grep -q 'not found'; then
		die "$p: a shared library is not found: $(ldd "$p" | grep 'not found' | head -n1)"
	fi
	# ldd fails on scripts and static programs: nothing more to copy then.
	for lib in $(ldd "$p" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		copy_path "$lib"
	done
}
: >"$stage/etc/wdvm/tests"
declare -A names
for t in "$@"; do
	prog=${t%% *}
	args=""
	[ "$prog" = "$t" ] || args=${t#* }
	[ -f "$prog" ] || die "no test program $prog"
	prog=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
	copy_with_libs "$prog"
	# an argument naming a host file by its absolute path (a module the
	# program loads, such as the OpenSSL provider wd.so) comes along too
	for a in $args; do
		case $a in /*) [ ! -f "$a" ] || copy_with_libs "$a" ;; esac
	done
	name=$(basename "$prog")
	if [ -n "${names[$name]:-}" ]; then
		names[$name]=$((names[$name] + 1)); name=$name.${names[$name]}
	else
		names[$name]=1
	fi
	printf '%s %s%s\n' "$name" "$prog" "${args:+ $args}" >>"$stage/etc/wdvm/tests"
done
for f in "${extra_files[@]}"; do
	[ -e "$f" ] || die "no file $f"
	f=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
	mkdir -p "$stage$(dirname "$f")"
	cp -a "$f" "$stage$(dirname "$f")/"
done

cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
# the guest binds its devices with the tool users get (tools/wd-vfio-bind)
cp "$here/../../tools/wd-vfio-bind" "$stage/bin/wd-vfio-bind"
chmod 755 "$stage/bin/wd-vfio-bind"
cat >"$stage/bin/wdvm-run-tests" <<'EOF'
#!/bin/sh
# Run the baked-in tests by hand (as /init does): wdvm-run-tests [NAME]...
. /etc/wdvm/lib.sh
wdvm_run_tests "$@"
EOF
chmod 755 "$stage/bin/wdvm-run-tests"
cp "$here/lib.sh" "$stage/etc/wdvm/lib.sh"
echo "$kver" >"$stage/etc/wdvm/kernel-version"

(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 >"$outdir/initrd.img.tmp"
mv "$outdir/initrd.img.tmp" "$outdir/initrd.img"
ln -sf "$vmlinuz" "$outdir/vmlinuz"
echo "$kver" >"$outdir/kernel-version"
echo "$pkg" >"$outdir/kernel-package"
rm -rf "$stage"
note "kernel $kver ($pkg), initramfs $(du -h "$outdir/initrd.img" | cut -f1), ${#order[@]} modules, $# test(s)"
