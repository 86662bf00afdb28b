#!/bin/bash
# shellcheck disable=SC2054
# Run test programs inside a QEMU guest (TCG, q35, intel-iommu) whose
# virtio-crypto device is bound to vfio-pci. See docs/testing-vm.md.
#
# usage: run.sh BUILD_DIR [TEST]...
#
#   TEST   a host program, optionally with arguments in the same word; it
#          runs in the guest at the same path (mkvm.sh copies its libraries).
#
# Environment:
#   WDVM_CACHE=DIR        kernel cache (BUILD_DIR/vm-cache)
#   WDVM_TIMEOUT=S        hard limit for the whole boot (600)
#   WDVM_TEST_TIMEOUT=S   limit per test inside the guest (300)
#   WDVM_KDEV=1           a second virtio-crypto device, left to the kernel's
#                         virtio_crypto driver (WD_VFIO_KDEV in the guest)
#   WDVM_SHELL=1          a shell on the console instead of the tests
#   WDVM_MEM=MiB (1024)  WDVM_SMP=N (2)  WDVM_CPU=model (max)
#   WDVM_AW_BITS=48|39    IOMMU address width (48: IOVAs up to 256 TiB, as
#                         real VT-d; 39, QEMU 7.2's default: below 512 GiB)
#   WDVM_PCIE=0           devices on the root bus instead of root ports
#   WDVM_MODULES="m..."   more kernel modules to ship and load
#   WDVM_FILES="p..."     more host files/directories to copy (same paths)
#   WDVM_ENV="A=1 B=2"    environment for the guest tests (no spaces in values)
#   WDVM_QEMU_ARGS="..."  more QEMU arguments
#   WDVM_VERBOSE=1        stream the console while it runs
#   WDVM_INSTALL=0        never try to apt-get install missing packages
#
# Exit status: 0 when the guest ran every test and none failed; 77 (skip)
# when QEMU/busybox/the kernel cannot be had or every guest test skipped;
# 1 otherwise.
set -uo pipefail

SKIP=77
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "wdvm: $*"; }
skip() { say "SKIP: $*"; exit $SKIP; }

[ $# -ge 1 ] || { echo "usage: run.sh BUILD_DIR [TEST]..." >&2; exit 2; }
[ -d "$1" ] || { echo "run.sh: no build dir $1" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
cache=${WDVM_CACHE:-$build/vm-cache}
timeout_s=${WDVM_TIMEOUT:-600}
kdev=${WDVM_KDEV:-0}
shell=${WDVM_SHELL:-0}

# ------------------------------------------------------------ prerequisites
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
bb_ok=0
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then bb_ok=1; fi
done
[ $bb_ok = 1 ] || need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v timeout >/dev/null || skip "no 'timeout' (coreutils)"
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "${WDVM_INSTALL:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing ${need_pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null 2>&1; } ||
			skip "missing ${need_pkgs[*]} and apt-get install failed (make deps installs them)"
	else
		skip "missing ${need_pkgs[*]} (apt-get install ${need_pkgs[*]}, or make deps)"
	fi
fi

# ------------------------------------------------------------- build guest
vmdir=$build/vm
mkargs=(-o "$vmdir")
for m in ${WDVM_MODULES:-}; do mkargs+=(-m "$m"); done
for f in ${WDVM_FILES:-}; do mkargs+=(-f "$f"); done
t0=$(date +%s.%N)
WDVM_MODULES="" "$here/mkvm.sh" "${mkargs[@]}" "$build" "$cache" "$@"
rc=$?
[ $rc = 0 ] || { [ $rc = $SKIP ] && exit $SKIP; say "mkvm.sh failed ($rc)"; exit 1; }
t1=$(date +%s.%N)
kver=$(cat "$vmdir/kernel-version")

# -------------------------------------------------------------------- boot
cmdline="console=ttyS0 intel_iommu=on panic=-1 loglevel=5 wdvm.kdev=$kdev wdvm.shell=$shell"
cmdline+=" wdvm.timeout=${WDVM_TEST_TIMEOUT:-300}"
for e in ${WDVM_ENV:-}; do cmdline+=" wdvm.env=$e"; done

# The IOMMU comes before the devices it translates. iommu_platform=on makes
# the virtio devices' DMA go through it (without it QEMU's virtio bypasses
# the vIOMMU and would read IOVAs as guest-physical addresses);
# disable-legacy=on leaves the modern interface only (no I/O BAR). Behind a
# PCIe root port (the default) the device is a PCIe endpoint with FLR, so
# VFIO_DEVICE_RESET works; WDVM_PCIE=0 puts it on the root bus instead
# (conventional PCI: no PCIe capability, no reset).
qemu=(qemu-system-x86_64 -accel tcg -machine q35,kernel-irqchip=split
	-cpu "${WDVM_CPU:-max}" -m "${WDVM_MEM:-1024}" -smp "${WDVM_SMP:-2}"
	-nodefaults -vga none -display none -no-reboot
	-device "intel-iommu,intremap=on,caching-mode=on,aw-bits=${WDVM_AW_BITS:-48}")
ndev=1
[ "$kdev" = 0 ] || ndev=2
for i in $(seq 0 $((ndev - 1))); do
	qemu+=(-object "cryptodev-backend-builtin,id=c$i")
	dev="virtio-crypto-pci,cryptodev=c$i,iommu_platform=on,disable-legacy=on"
	if [ "${WDVM_PCIE:-1}" = 1 ]; then
		qemu+=(-device "pcie-root-port,id=rp$i,chassis=$((i + 1)),addr=0$((i + 3)).0"
			-device "$dev,bus=rp$i")
	else
		qemu+=(-device "$dev,addr=0$((i + 3)).0")
	fi
done
qemu+=(-kernel "$vmdir/vmlinuz" -initrd "$vmdir/initrd.img" -append "$cmdline")
# shellcheck disable=SC2206
qemu+=(${WDVM_QEMU_ARGS:-})

if [ "$shell" = 1 ]; then
	say "kernel $kver; shell on the console (Ctrl-A X quits QEMU)"
	exec "${qemu[@]}" -serial mon:stdio
fi

log=$vmdir/console.log
: >"$log"
say "booting kernel $kver (TCG), log in $log, limit ${timeout_s}s"
tailpid=""
if [ "${WDVM_VERBOSE:-0}" = 1 ]; then
	tail -n +1 -F "$log" 2>/dev/null &
	tailpid=$!
fi
timeout -k 10 "$timeout_s" "${qemu[@]}" -serial "file:$log" </dev/null >"$vmdir/qemu.out" 2>&1
qrc=$?
t2=$(date +%s.%N)
[ -z "$tailpid" ] || { sleep 0.5; kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null; }
tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"

# ------------------------------------------------------------------ verdict
fail() {
	say "FAIL: $*"
	say "---- last 60 lines of $log ----"
	tail -n 60 "$log"
	if [ -s "$vmdir/qemu.out" ]; then
		say "---- QEMU's own messages (last 20 of $(wc -l <"$vmdir/qemu.out"), in $vmdir/qemu.out) ----"
		tail -n 20 "$vmdir/qemu.out"
	fi
	exit 1
}
ready=$(grep -o 'WDVM-READY uptime=[0-9.]*s' "$log" | head -n1 | sed 's/.*=//')
# Guest test output (between READY and DONE) is worth seeing in ctest -V.
sed -n '/WDVM-READY/,/WDVM-DONE/p' "$log"
echo
say "mkvm $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")s, boot to tests ${ready:-?} (guest uptime), QEMU wall $(awk "BEGIN{printf \"%.1f\", $t2 - $t1}")s"

[ $qrc != 124 ] && [ $qrc != 137 ] || fail "QEMU killed after ${timeout_s}s (WDVM_TIMEOUT)"
grep -q 'WDVM-DONE' "$log" || fail "the guest did not finish (QEMU exit $qrc)"

pass=0 skipped=0 failed=0 names=""
while read -r _ name rc; do
	case $rc in
	0) pass=$((pass + 1)); st=passed ;;
	77) skipped=$((skipped + 1)); st=skipped ;;
	143 | 137) failed=$((failed + 1)); st="TIMEOUT (rc $rc)"; names="$names $name" ;;
	*) failed=$((failed + 1)); st="FAILED (rc $rc)"; names="$names $name" ;;
	esac
	printf 'wdvm:   %-28s %s\n' "$name" "$st"
done < <(grep -o 'WDVM-RESULT [^ ]* -\{0,1\}[0-9]*' "$log")
say "$pass passed, $skipped skipped, $failed failed"

if grep -q 'WDVM-SETUP-FAIL' "$log"; then
	grep 'WDVM-SETUP-FAIL' "$log"
	fail "guest setup failed"
fi
[ $failed = 0 ] || fail "failed in the guest:$names"
[ $((pass + skipped)) -gt 0 ] || { [ $# = 0 ] && exit 0; fail "no test results"; }
[ $pass -gt 0 ] || skip "every guest test skipped"
exit 0
