#!/bin/bash
# t_nft.sh: lib/nft_*.c and lib/localnet.c through tests/helpers/nftctl in two
# network namespaces (dev, lan) joined by a veth pair: the table is exactly
# the golden dumps/NAME.nft (as `nft list table ip tunnelctl` prints it),
# DNAT of locally made connections reaches the LAN target, nothing else is
# forwarded, foreign tables are untouched, a refused batch changes nothing,
# route_localnet is restored, and the CVE-2020-8558 drop rule holds. Needs
# root. TAP output.

. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
for c in nft curl python3 setpriv ip; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done
NFTCTL=${NFTCTL:-$TC_BUILDDIR/tests/helpers/nftctl}
[ -x "$NFTCTL" ] || { echo "Bail out! $NFTCTL not built (make check builds it)"; exit 1; }
DUMPS=$TC_SRCDIR/tests/integration/dumps

DEV=tcdev$$
LAN=tclan$$
T=$(mktemp -d /tmp/t_nft.XXXXXX) || exit 1
at_exit "rm -rf $T"
netns_up "$DEV"
# lan's lo stays down (never up: a lo once up keeps its local routes), so
# lan has no local 127.0.0.0/8 route: the attacker below can route
# 127.0.0.1 toward dev instead.
at_exit "ip netns del $LAN"
ip netns add "$LAN" || { echo "Bail out! ip netns add $LAN"; exit 1; }

indev() { ip netns exec "$DEV" "$@"; }
inlan() { ip netns exec "$LAN" "$@"; }
# nc_dev ARGS...: nftctl in dev; sets rc, $T/out, $T/err
nc_dev() { indev "$NFTCTL" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# get NS URL: the body, or nothing on failure (bounded)
get() { ip netns exec "$1" curl -s --max-time 3 "$2" 2>/dev/null; }
sysctl_of() { indev cat "/proc/sys/net/ipv4/conf/$1/route_localnet"; }
# dump_is NAME: the table, as `nft list` prints it, is dumps/NAME.nft; one
# diff shows any drift. (Handles are not printed, so nothing varies.)
dump_is() {
	indev nft list table ip tunnelctl >"$T/$1.nft" 2>&1
	if diff -u "$DUMPS/$1.nft" "$T/$1.nft" >"$T/$1.diff"; then
		ok "the table is dumps/$1.nft"
	else
		not_ok "the table is dumps/$1.nft"
		diag "$(cat "$T/$1.diff")"
	fi
}

# serve NS ADDR PORT DIR: a python http.server, waited for until dev reaches
# it (lan cannot probe itself: its lo is down)
serve() {
	local ns=$1 addr=$2 port=$3 dir=$4
	ip netns exec "$ns" python3 -m http.server "$port" --bind "$addr" --directory "$dir" \
		>/dev/null 2>&1 &
	at_exit "kill $!"
	for _ in $(seq 50); do
		indev curl -s --max-time 1 -o /dev/null "http://$addr:$port/" && return 0
		sleep 0.1
	done
	echo "Bail out! http.server on $ns $addr:$port did not start"
	exit 1
}

# ---- topology: dev 192.0.2.1 <-veth-> lan 192.0.2.50 (+ .51) ----
ip link add vd netns "$DEV" type veth peer name vl netns "$LAN" || { echo "Bail out! veth"; exit 1; }
ip -n "$DEV" addr add 192.0.2.1/24 dev vd
ip -n "$DEV" link set vd up
ip -n "$LAN" addr add 192.0.2.50/24 dev vl
ip -n "$LAN" addr add 192.0.2.51/24 dev vl
ip -n "$LAN" link set vl up

TOK1="tok-web-$$-$RANDOM"
TOK2="tok-db-$$-$RANDOM"
SECRET="secret-$$-$RANDOM"
mkdir -p "$T/w1" "$T/w2" "$T/sec"
echo "$TOK1" >"$T/w1/index.html"
echo "$TOK2" >"$T/w2/index.html"
echo "$SECRET" >"$T/sec/index.html"
serve "$LAN" 192.0.2.50 8443 "$T/w1"
serve "$LAN" 192.0.2.51 8444 "$T/w2"
serve "$DEV" 127.0.0.1 9999 "$T/sec"

R1=web:10443:192.0.2.50:8443
R2=db:10444:192.0.2.51:8444

# A foreign table, like another tool's, that must stay byte-for-byte intact.
indev nft add table inet foreign
indev nft add chain inet foreign keep
indev nft add rule inet foreign keep tcp dport 4242 counter
indev nft list table inet foreign >"$T/foreign.before"

# ---- one rule + route_localnet toward the target ----
nc_dev apply "$R1"
check "apply one rule" [ "$rc" = 0 ]
dump_is nft-one-tunnel
nc_dev route 192.0.2.50
IFACE=$(cat "$T/out")
check "route to the target goes out of vd" [ "$IFACE" = vd ]
ALL_BEFORE=$(sysctl_of all)
nc_dev localnet "$T/save" "$IFACE"
check "localnet on $IFACE" [ "$rc:$(sysctl_of "$IFACE")" = 0:1 ]
check "route_localnet old value saved 0600 in a 0700 dir" \
	[ "$(stat -c %a "$T/save/$IFACE" 2>/dev/null):$(cat "$T/save/$IFACE"):$(stat -c %a "$T/save")" = 600:0:700 ]
check "all.route_localnet never changed" [ "$(sysctl_of all)" = "$ALL_BEFORE" ]
check "dev: 127.0.0.1:10443 reaches the LAN target" [ "$(get "$DEV" http://127.0.0.1:10443/)" = "$TOK1" ]
check "dev: own address 192.0.2.1:10443 reaches the LAN target" \
	[ "$(get "$DEV" http://192.0.2.1:10443/)" = "$TOK1" ]
check "lan: 192.0.2.1:10443 is not forwarded" [ -z "$(get "$LAN" http://192.0.2.1:10443/)" ]
indev nft -j list table ip tunnelctl >"$T/json" 2>"$T/err"
check "nft -j shows the rule with its name" grep -q '"comment": "web"' "$T/json"
check "nft -j shows the dnat target" grep -q '"dnat": {"addr": "192.0.2.50", "port": 8443}' "$T/json"
# shellcheck disable=SC2016
check "table has no owner flag" python3 -c '
import json, sys
objs = json.load(open(sys.argv[1]))["nftables"]
t = [o["table"] for o in objs if "table" in o]
sys.exit(not (len(t) == 1 and "owner" not in t[0].get("flags", [])))' "$T/json"
nc_dev list
check "list decodes the rule" [ "$(cat "$T/out")" = "web 10443 192.0.2.50:8443" ]
nc_dev verify "$R1"
check "verify: verified" [ "$rc" = 0 ]
nc_dev verify "$R2"
check "verify another set: not verified (3)" [ "$rc" = 3 ]
indev nft list table inet foreign >"$T/foreign.after"
check "foreign table unchanged after apply" cmp -s "$T/foreign.before" "$T/foreign.after"

# ---- CVE-2020-8558: a neighbour routing 127.0.0.1 to dev ----
inlan sysctl -qw net.ipv4.conf.vl.route_localnet=1
ip -n "$LAN" route add 127.0.0.1/32 via 192.0.2.1 dev vl
check "lan cannot reach dev's 127.0.0.1:9999 while the table is in place" \
	[ -z "$(get "$LAN" http://127.0.0.1:9999/)" ]

# ---- two rules, then one ----
nc_dev apply "$R1" "$R2"
check "apply two rules" [ "$rc" = 0 ]
dump_is nft-two-tunnels
check "rule 1 serves" [ "$(get "$DEV" http://127.0.0.1:10443/)" = "$TOK1" ]
check "rule 2 serves" [ "$(get "$DEV" http://127.0.0.1:10444/)" = "$TOK2" ]
nc_dev apply "$R2"
check "remove rule 1" [ "$rc" = 0 ]
check "rule 2 still serves" [ "$(get "$DEV" http://127.0.0.1:10444/)" = "$TOK2" ]
check "rule 1 gone" [ -z "$(get "$DEV" http://127.0.0.1:10443/)" ]

# ---- a batch the kernel refuses changes nothing ----
nc_dev apply-bad "$R1"
check "refused batch: exit 1" [ "$rc" = 1 ]
check "refused batch: error names the refused message" \
	grep -q "for tunnel web: No such file or directory" "$T/err"
nc_dev list
check "refused batch: previous table intact" [ "$(cat "$T/out")" = "db 10444 192.0.2.51:8444" ]
check "refused batch: traffic still flows" [ "$(get "$DEV" http://127.0.0.1:10444/)" = "$TOK2" ]

# ---- someone flushes the ruleset ----
indev nft flush ruleset
nc_dev verify "$R2"
check "after flush ruleset: not verified" [ "$rc" = 3 ]
nc_dev apply "$R2"
nc_dev verify "$R2"
check "re-apply: verified" [ "$rc" = 0 ]
check "re-apply: traffic flows" [ "$(get "$DEV" http://127.0.0.1:10444/)" = "$TOK2" ]
indev nft add rule ip tunnelctl output counter
nc_dev verify "$R2"
check "a stranger's rule in our table: not verified" [ "$rc" = 3 ]
nc_dev apply "$R2"
nc_dev verify "$R2"
check "apply replaces it: verified" [ "$rc" = 0 ]

# ---- without our table, route_localnet alone exposes loopback (the test can fail) ----
indev nft add table inet foreign
indev nft add chain inet foreign keep
indev nft add rule inet foreign keep tcp dport 4242 counter
indev nft list table inet foreign >"$T/foreign.before"
nc_dev apply
check "apply nothing: ok" [ "$rc" = 0 ]
nc_dev list
check "table gone" [ "$(cat "$T/out")" = absent ]
check "CVE-2020-8558 reproduces without the table (control)" \
	[ "$(get "$LAN" http://127.0.0.1:9999/)" = "$SECRET" ]
nc_dev apply
check "delete again: absent is success" [ "$rc" = 0 ]
nc_dev verify
check "verify empty set with no table: verified" [ "$rc" = 0 ]
indev nft list table inet foreign >"$T/foreign.after"
check "foreign table unchanged after delete" cmp -s "$T/foreign.before" "$T/foreign.after"

# ---- route_localnet restored ----
nc_dev localnet "$T/save"
check "localnet with no ifaces: ok" [ "$rc" = 0 ]
check "route_localnet back to 0 on $IFACE" [ "$(sysctl_of "$IFACE")" = 0 ]
check "save file removed" [ ! -e "$T/save/$IFACE" ]
check "all.route_localnet still unchanged" [ "$(sysctl_of all)" = "$ALL_BEFORE" ]
nc_dev localnet "$T/save" all
check "localnet refuses 'all'" [ "$rc:$(sysctl_of all)" = "1:$ALL_BEFORE" ]
ln -s "$T/w1" "$T/savelink"
nc_dev localnet "$T/savelink" "$IFACE"
check "localnet refuses a symlinked save dir" [ "$rc:$(sysctl_of "$IFACE")" = 1:0 ]

# ---- not permitted ----
mkdir -p "$T/pub"
chmod 0711 "$T"
install -m 0755 "$NFTCTL" "$T/pub/nftctl"
nobody() { indev setpriv --reuid 65534 --regid 65534 --clear-groups "$T/pub/nftctl" "$@" \
	>"$T/out" 2>"$T/err"; rc=$?; }
nobody perm
check "non-root: perm exits 77" [ "$rc" = 77 ]
nobody apply "$R1"
check "non-root: apply exits 77 naming CAP_NET_ADMIN" [ "$rc:$(grep -c CAP_NET_ADMIN "$T/err")" = 77:1 ]
nc_dev list
check "non-root apply changed nothing" [ "$(cat "$T/out")" = absent ]

done_testing
