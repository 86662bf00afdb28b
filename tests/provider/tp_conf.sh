# Sourced by the provider's program tests.  tp_conf FILE MODULE_DIR STATS:
# an openssl.cnf (for OPENSSL_CONF) that loads wd beside the default
# provider and prefers it (default_properties = ?provider=wd), every piece
# to a queue (threshold 0), statistics lines appended to STATS.
tp_conf() {
	cat > "$1" <<CNF
openssl_conf = init
[init]
providers = provs
alg_section = algs
[algs]
default_properties = ?provider=wd
[provs]
wd = wd_sect
default = def_sect
[wd_sect]
module = $2/wd.so
activate = 1
threshold = 0
stats = $3
[def_sect]
activate = 1
CNF
}
