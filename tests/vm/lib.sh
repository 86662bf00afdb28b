# Guest-side helpers for the VM test rig (busybox sh; sourced by /init and
# by wdvm-run-tests). Not run on the host.

# wdvm_run_tests [NAME]...: run the tests listed in /etc/wdvm/tests (one
# "name command args..." per line), all of them or only the named ones, each
# under a timeout of $WDVM_TEST_TIMEOUT seconds, in a fresh directory under
# /tmp. Prints "WDVM-BEGIN name" and "WDVM-RESULT name exit-code" around each
# (77: skipped; 143: killed by the timeout). Returns the number of failures.
wdvm_run_tests() {
	_fail=0
	while read -r _name _cmd; do
		[ -n "$_name" ] || continue
		if [ $# -gt 0 ]; then
			_want=0
			for _n in "$@"; do [ "$_n" = "$_name" ] && _want=1; done
			[ $_want = 1 ] || continue
		fi
		echo "WDVM-BEGIN $_name"
		mkdir -p "/tmp/wdvm/$_name"
		_t0=$(cut -d' ' -f1 /proc/uptime)
		(cd "/tmp/wdvm/$_name" && exec timeout -s TERM -k 10 "${WDVM_TEST_TIMEOUT:-300}" \
			sh -c "exec $_cmd") </dev/null
		_rc=$?
		_t1=$(cut -d' ' -f1 /proc/uptime)
		# Tests may end without a newline: start the marker on a fresh line.
		echo
		echo "WDVM-TIME $_name $(awk "BEGIN{printf \"%.1f\", $_t1 - $_t0}")s"
		echo "WDVM-RESULT $_name $_rc"
		[ $_rc = 0 ] || [ $_rc = 77 ] || _fail=$((_fail + 1))
	done </etc/wdvm/tests
	return $_fail
}
