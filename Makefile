# WarpDrive: thin wrapper over CMake so a fresh Debian 12 machine needs two
# commands: `make demo` (the main job) and `make check` (every test).
# Both install the Debian packages they need first.

BUILD ?= build
# the corpus that comes with the repository (corpus/README.md)
CORPUS ?= corpus
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PKGS := cmake make gcc g++ clang libclang-rt-14-dev pkg-config libisal-dev zlib1g-dev \
	libdeflate-dev libssl-dev binutils gzip pigz isal bc gnuplot-nox git python3 nginx-light curl \
	qemu-system-x86 busybox-static cpio xz-utils valgrind

.PHONY: all deps build demo check check-plain check-asan check-tsan check-fuzz check-install check-vm bench bench-vm install clean

all: build

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in software accelerator: compress and check the
# corpus through a queue, then the benchmark tables (figures are reported,
# never asserted; JSON and a PNG chart land in $(BUILD)/).  The corpus is
# named explicitly, so a missing one fails instead of being skipped.
demo: build
	$(BUILD)/tools/wd devices
	$(BUILD)/tools/wd demo -d $(CORPUS)
	$(BUILD)/tools/wd bench comp -d $(CORPUS) -j $(BUILD)/bench-comp.json -p $(BUILD)/bench-comp.png
	bench/gzip_vs.sh $(BUILD)/tools/wd "" 5 $(BUILD)/bench-gzip.json
	$(BUILD)/tools/wd bench ring -j $(BUILD)/bench-ring.json
	$(BUILD)/tools/wd bench crypto -j $(BUILD)/bench-crypto.json
	$(BUILD)/tools/wd bench zlib -d $(CORPUS) -j $(BUILD)/bench-zlib.json -p $(BUILD)/bench-zlib.png
	bench/zlib_progs.sh $(BUILD)/tools/wd "" 3 $(BUILD)/bench-zlib-progs.json

bench: build
	$(BUILD)/tools/wd bench comp -d $(CORPUS) -j $(BUILD)/bench-comp.json -p $(BUILD)/bench-comp.png
	bench/gzip_vs.sh $(BUILD)/tools/wd "" 5 $(BUILD)/bench-gzip.json
	$(BUILD)/tools/wd bench ring -j $(BUILD)/bench-ring.json
	$(BUILD)/tools/wd bench mem -j $(BUILD)/bench-mem.json
	$(BUILD)/tools/wd bench crypto -j $(BUILD)/bench-crypto.json
	$(BUILD)/tools/wd bench sync -j $(BUILD)/bench-sync.json
	$(BUILD)/tools/wd bench zlib -d $(CORPUS) -j $(BUILD)/bench-zlib.json -p $(BUILD)/bench-zlib.png
	bench/zlib_progs.sh $(BUILD)/tools/wd "" 5 $(BUILD)/bench-zlib-progs.json
	$(BUILD)/tools/wd bench provider -j $(BUILD)/bench-provider.json
	bench/prov_insns.sh $(BUILD)/tools/wd 20000 $(BUILD)/bench-provider-insns.json
	bench/prov_speed.sh $(BUILD)/src/provider 3 1 $(BUILD)/bench-provider-speed.json

# Every test: plain build, ASan+UBSan build, TSan build, install + consumer.
check: check-plain check-asan check-tsan check-fuzz check-install
	@echo "make check: all suites passed"

check-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DWD_SANITIZE=address
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -LE vm
	# the VFIO driver under ASan+UBSan, in the guest (one more boot)
	cd $(BUILD)-asan && WDVM_CACHE=$(CURDIR)/$(BUILD)/vm-cache \
	  WDVM_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" \
	  ctest --output-on-failure -L vm

# TSan runs every test but those that fork (TSan cannot follow a fork of a
# threaded process; t_wdd_hostile_procs forks its other users and dying
# clients while its victim threads run; t_zlib_fork forks under the layer), the
# shell-driven CLI tests, the real programs under the zlib layer and the
# provider (pigz, git, python3, nginx and openssl are not built for TSan;
# t_prov_fork forks with a thread in a request, t_prov_async_fork with jobs
# paused on requests), and the dirty-mirror example,
# which copies pages while the device writes them on purpose (a torn copy is
# caught by the dirty bit and copied again; the final pass makes it exact).
check-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=Debug -DWD_SANITIZE=thread
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) -LE vm -E '^(exports|t_fork|t_mem_pins|t_gzip_cli|t_gzip_failover|example_dirty_mirror|t_wdd_clients|t_wdd_hostile_procs|t_zlib_fork(_stock)?|t_zlib_(pigz|git|python|nginx|wd_run)|t_prov_(fork|async_fork|openssl|python|nginx|s_server))$$'
	# the VFIO driver's queue threads under TSan, in the guest
	cd $(BUILD)-tsan && WDVM_CACHE=$(CURDIR)/$(BUILD)/vm-cache \
	  WDVM_ENV="TSAN_OPTIONS=halt_on_error=1" ctest --output-on-failure -L vm

# The fuzz targets, built with clang + ASan/UBSan, each run from its seeds
# for a bounded number of inputs.
check-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug \
	  -DWD_SANITIZE=address -DWD_FUZZ=ON -DBUILD_TESTING=ON
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_inflate fuzz_roundtrip fuzz_wdd_msg fuzz_virtq fuzz_zlib_diff
	cd $(BUILD)-fuzz && ctest --output-on-failure -L fuzz

# Only the VM rig (tests/vm, docs/testing-vm.md): the guest with VFIO. The
# plain pass of `make check` runs it too; the sanitizer builds skip it (-LE vm).
check-vm: build
	cd $(BUILD) && ctest --output-on-failure -L vm

# AES on virtio-crypto in the guest: the user-space VFIO driver, raw and
# through the OpenSSL provider, vs the kernel's driver through AF_ALG
# (docs/vfio.md); ratios, table and JSON.
bench-vm: build
	WDVM_KDEV=1 WDVM_VERBOSE=1 tests/vm/run.sh $(BUILD) \
	  "$(CURDIR)/$(BUILD)/bench/wd_bench_vfio -t 2 -j - -p $(CURDIR)/$(BUILD)/src/provider/wd.so"
	sed -n 's/^WDBENCH-JSON //p' $(BUILD)/vm/console.log > $(BUILD)/bench-vfio.json
	@echo "JSON: $(BUILD)/bench-vfio.json"

# Install into a staging prefix and build a consumer as C and as C++.
check-install: build
	rm -rf $(BUILD)/stage
	cmake --install $(BUILD) --prefix $(CURDIR)/$(BUILD)/stage >/dev/null
	tests/install/check.sh $(CURDIR)/$(BUILD)/stage

install: build
	$(SUDO) cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz
