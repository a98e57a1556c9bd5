#!/bin/bash
# t_sync_iface.sh: --interface / `interface =` pins the config fetch to one
# network interface (RELIABILITY S12). SORACOM's metadata is plain HTTP and
# trusted only because it comes over the cellular link; a machine on the
# device's LAN that answers for the metadata address (a spoofed route, ARP
# or DHCP) must not be able to hand the device its tunnels.
#
# Device namespace: vds = the "cellular" link to SRV (203.0.113.1, sshd),
# vd = the LAN link to LAN (192.0.2.50, the attacker). Both SRV and LAN
# answer on the metadata address 198.51.100.10:80, each with its own
# document; the device's routes send that address over the LAN (the attack)
# and the rest of 198.51.100.0/24 over the cellular link.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
command -v autossh >/dev/null || skip_all "autossh not installed"
three_hosts tif
META=198.51.100.10
IMSI=440101234567890
R_GOOD=2201
R_EVIL=2666

serve() {	# serve NS NAME REMOTE_PORT: a metadata server for NAME in NS
	local ns=$1 name=$2 rport=$3 root=$WORK/$2
	mkdir -p "$root/v1"
	printf '{"imsi": "%s"}\n' "$IMSI" >"$root/v1/subscriber"
	python3 - "$KEY" "$rport" "$IMSI" >"$root/v1/userdata" <<'EOF'
import json, sys
key, rport, imsi = sys.argv[1:4]
print(json.dumps({"ssh": {"imsis": {imsi: {
    "portForwardParam": "%s:127.0.0.1:9 -p 22 root@203.0.113.1" % rport,
    "privateKey": open(key).read()}}}}))
EOF
	ip -n "$ns" addr add "$META/32" dev lo
	ip netns exec "$ns" python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$root" \
		--bind "$META" --port 80 --portfile "$WORK/$name.port" \
		--logfile "$WORK/$name.log" >"$WORK/$name.err" 2>&1 &
	at_exit "kill $!"
	wait_for 5 test -s "$WORK/$name.port"
}
check "metadata server on the cellular side starts" serve "$SRV" good "$R_GOOD"
check "attacker's metadata server on the LAN starts" serve "$LAN" evil "$R_EVIL"
ip -n "$DEV" route add 198.51.100.0/24 via 203.0.113.1 dev vds
ip -n "$DEV" route add "$META/32" via 192.0.2.50 dev vd	# the attack
reqs() { [ -f "$WORK/$1.log" ] && wc -l <"$WORK/$1.log" || echo 0; }
run_sync() {
	OUT=$(tc sync --soracom="http://$META" "$@" 2>"$WORK/err"); RC=$?
	ERR=$(tr '\n' ';' <"$WORK/err")
}

# --- without a pin, the LAN's answer wins: the attack this option stops -----
run_sync
is "$RC" 0 "no pin: sync exits 0 ($ERR)"
is "$(reqs evil)" 2 "no pin: both requests went to the LAN's server"
is "$(reqs good)" 0 "no pin: none to the cellular side"
is "$(jfield ssh remote_port)" "$R_EVIL" "no pin: the tunnel is the attacker's"

# --- --interface vds: only the cellular link is used ---------------------------
run_sync --interface vds
is "$RC" 0 "--interface vds: sync exits 0 ($ERR)"
is "$(reqs good)" 2 "--interface vds: both requests went over the cellular link"
is "$(reqs evil)" 2 "--interface vds: none to the LAN's server"
check "--interface vds: the tunnel is replaced ($(printf '%s' "$OUT" | tr '\n' ';'))" \
	sh -c "printf '%s' '$OUT' | grep -q '^ssh: restarted'"
is "$(jfield ssh remote_port)" "$R_GOOD" "--interface vds: the tunnel is the operator's"
check "--interface vds: it comes up" wait_for 20 state_is ssh up
P=$(jfield ssh pid)

# --- the same from the settings file -------------------------------------------
printf 'interface = vds\n' >"$SETTINGS"
run_sync
is "$RC" 0 "interface = vds in the settings: exit 0 ($ERR)"
is "$(reqs good)" 4 "settings pin: requests over the cellular link"
is "$(reqs evil)" 2 "settings pin: still none to the LAN"
is "$(jfield ssh pid)" "$P" "settings pin: the tunnel is left alone"
: >"$SETTINGS"

# --- a missing interface: the fetch fails (69), nothing changes -----------------
run_sync --interface wwan7
is "$RC" 69 "--interface wwan7 (absent): exit 69"
check "names the interface ($ERR)" sh -c "printf '%s' \"\$1\" | grep -q 'interface wwan7'" _ "$ERR"
is "$(reqs evil)" 2 "absent interface: no fallback to another route"
is "$(jfield ssh pid)" "$P" "absent interface: the running tunnel is kept"

# --- a bad name is a usage error, before any request -----------------------------
for bad in 'a/b' '-x' 'eth0:1' 'if!vd' 'abcdefghijklmnop'; do
	run_sync --interface "$bad"
	is "$RC" 2 "--interface '$bad': usage error (2)"
	check "  names --interface ($ERR)" sh -c "printf '%s' \"\$1\" | grep -q -- '--interface'" _ "$ERR"
done
printf 'interface = a b\n' >"$SETTINGS"
run_sync
is "$RC" 2 "interface = 'a b' in the settings: usage error (2)"
check "  names the setting and the file ($ERR)" sh -c "printf '%s' \"\$1\" | grep -q \"settings $SETTINGS:1: interface: \"" _ "$ERR"
printf 'interface = "a b"\n' >"$SETTINGS"
run_sync
is "$RC" 2 "interface = \"a b\" (quoted) in the settings: usage error (2)"
check "  names the setting and the file ($ERR)" sh -c "printf '%s' \"\$1\" | grep -q \"interface = 'a b' in $SETTINGS\"" _ "$ERR"
: >"$SETTINGS"
is "$(reqs good)$(reqs evil)" 42 "bad names: no request was made"

tc stop --all >/dev/null 2>&1
done_testing
