#!/bin/bash
# t_sync_dnat.sh: `sync` with --via dnat tunnels (issue 3), all inside a
# network namespace "dev" (tunnelctl, sshd, the DNAT table) with a LAN
# namespace behind a veth: a target-only change updates the rule and keeps
# ssh ("restarted", same supervisor), a flushed ruleset is restored by the
# next sync, and the last stop removes the table and restores route_localnet.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
command -v autossh >/dev/null || skip_all "autossh not installed"
command -v nft >/dev/null || skip_all "nft (used by the test only) not installed"

tc_setup
NSD=tcsd-dev-$$
NSL=tcsd-lan-$$
at_exit "ip netns del $NSD; ip netns del $NSL"
ip netns add "$NSD" && ip netns add "$NSL" || skip_all "cannot create network namespaces"
ip -n "$NSD" link set lo up
ip link add vd netns "$NSD" type veth peer name vl netns "$NSL" || skip_all "cannot create veth"
ip -n "$NSD" addr add 192.0.2.1/24 dev vd
ip -n "$NSD" link set vd up
ip -n "$NSL" addr add 192.0.2.50/24 dev vl
ip -n "$NSL" addr add 192.0.2.51/24 dev vl
ip -n "$NSL" link set vl up

# tunnelctl, and so its supervisors and their ssh, run in the dev namespace.
tc() { ip netns exec "$NSD" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" "$@"; }
at_exit "ip netns exec $NSD $TC_BIN --state-dir $STATE --settings $SETTINGS -q stop --all"
indev() { ip netns exec "$NSD" "$@"; }
get() { indev curl -s --max-time 3 "http://127.0.0.1:$1/" 2>/dev/null; }

serve() { # serve ADDR PORT TOKEN
	local d
	d=$(mktemp -d "$WORK/srv.XXXXXX")
	printf '%s\n' "$3" >"$d/index.html"
	ip netns exec "$NSL" python3 -m http.server "$2" --bind "$1" --directory "$d" >/dev/null 2>&1 &
	at_exit "kill $!"
	wait_for 5 indev curl -s --max-time 1 -o /dev/null "http://$1:$2/"
}
TOK1=one-$$-$RANDOM
TOK2=two-$$-$RANDOM
serve 192.0.2.50 8443 "$TOK1" || skip_all "target 1 did not start"
serve 192.0.2.51 8444 "$TOK2" || skip_all "target 2 did not start"

SSHD=$WORK/sshd
sshd_setup "$SSHD" || skip_all "cannot set up sshd"
SPORT=2222
sshd_start_ns "$NSD" "$SSHD" "$SPORT" 127.0.0.1 || skip_all "cannot start sshd in the namespace"
at_exit "sshd_kill_sessions $SSHD; sshd_stop $SSHD"

DOC=$WORK/doc.json
DEVID=edge-0042
# gendoc [NAME:RPORT:LPORT:THOST:TPORT]...
gendoc() {
	python3 - "$SSHD/client_key" "$SSHD_HOSTKEY_PUB" "$SPORT" "$DOC" "$DEVID" "$@" <<'EOF'
import json, os, sys
keyf, hostkey, sport, out, dev = sys.argv[1:6]
pem = open(keyf).read()
ts = []
for a in sys.argv[6:]:
    name, rport, lport, thost, tport = a.split(":")
    ts.append({"name": name,
               "server": {"host": "127.0.0.1", "port": int(sport), "user": "root",
                          "host_key": hostkey},
               "remote": {"port": int(rport)},
               "target": {"host": thost, "port": int(tport)},
               "via": "dnat", "local_port": int(lport), "private_key": pem})
with open(out + ".tmp", "w") as f:
    json.dump({"version": 1, "devices": {dev: {"tunnels": ts}}}, f)
os.replace(out + ".tmp", out)
EOF
}
run_sync() {
	OUT=$(tc sync --source "$DOC" --id "$DEVID" "$@" 2>"$WORK/err"); RC=$?
	ERR=$(cat "$WORK/err")
}
one_line() { printf '%s' "$1" | tr '\n' ';'; }
has_line() { printf '%s\n' "$OUT" | grep -qE "$1"; }
table_exists() { indev nft list table ip tunnelctl >/dev/null 2>&1; }
rl() { indev cat /proc/sys/net/ipv4/conf/vd/route_localnet; }
RL0=$(rl)
# the namespace's firewall bookkeeping (lib/fwreg.c), gone once nothing needs it
FW=/run/tunnelctl-fw/$(indev stat -L -c %i /proc/self/ns/net)
at_exit "rm -rf $FW"

# --- start: DNAT rule, traffic to the LAN target through the tunnel ---------
gendoc "inv:8080:10443:192.0.2.50:8443"
run_sync
is "$RC" 0 "dnat sync exits 0 ($(one_line "$ERR"))"
check "inv: started ($(one_line "$OUT"))" has_line '^inv: started \(.+\)$'
check "inv up" wait_for 15 state_is inv up
check "the table exists in the dev namespace" table_exists
is "$(rl)" 1 "route_localnet set on the interface toward the target"
is "$(indev cat /proc/sys/net/ipv4/conf/all/route_localnet)" 0 "all.route_localnet untouched"
is "$(get 8080)" "$TOK1" "server port -> ssh -> local port -> DNAT -> LAN target"
P=$(jfield inv pid)

# --- idle ---------------------------------------------------------------------
run_sync
check "idle: unchanged ($(one_line "$OUT"))" has_line '^inv: unchanged'
is "$(jfield inv pid)" "$P" "idle: same supervisor"

# --- only the target changes: rule updated, ssh kept ------------------------
SSHPID=$(pgrep -s "$P" -x ssh | head -1)
gendoc "inv:8080:10443:192.0.2.51:8444"
run_sync
is "$RC" 0 "target change exits 0 ($(one_line "$ERR"))"
check "target change reported restarted ($(one_line "$OUT"))" has_line '^inv: restarted \(.+\)$'
is "$(jfield inv pid)" "$P" "target change: same supervisor"
is "$(pgrep -s "$P" -x ssh | head -1)" "$SSHPID" "target change: same ssh process"
is "$(jfield inv target)" "192.0.2.51:8444" "status shows the new target"
check "traffic reaches the new target" wait_for 5 sh -c "[ \"\$(ip netns exec $NSD curl -s --max-time 2 http://127.0.0.1:8080/)\" = $TOK2 ]"
run_sync
check "after the update: unchanged ($(one_line "$OUT"))" has_line '^inv: unchanged'

# --- someone flushes the ruleset: the next sync restores the rule -----------
indev nft flush ruleset
check "flushed: traffic no longer reaches the target" sh -c "[ \"\$(ip netns exec $NSD curl -s --max-time 2 http://127.0.0.1:8080/)\" != $TOK2 ]"
run_sync
is "$RC" 0 "sync after a flush exits 0 ($(one_line "$ERR"))"
check "after a flush: still unchanged ($(one_line "$OUT"))" has_line '^inv: unchanged'
check "the table is back" table_exists
is "$(get 8080)" "$TOK2" "traffic flows again after sync restored the rule"
is "$(jfield inv pid)" "$P" "the flush did not restart the tunnel"

# --- the ssh side changes: a real restart --------------------------------------
gendoc "inv:8081:10443:192.0.2.51:8444"
run_sync
check "remote port change: restarted ($(one_line "$OUT"))" has_line '^inv: restarted'
check "inv up again" wait_for 15 state_is inv up
check "new supervisor" [ "$(jfield inv pid)" != "$P" ]
is "$(get 8081)" "$TOK2" "traffic on the new remote port"

# --- two dnat tunnels, then none: table gone, route_localnet restored --------
gendoc "inv:8081:10443:192.0.2.51:8444" "plc:8082:10444:192.0.2.50:8443"
run_sync
check "plc started ($(one_line "$OUT"))" has_line '^plc: started'
check "plc up" wait_for 15 state_is plc up
is "$(get 8082)" "$TOK1" "plc reaches its target"
is "$(get 8081)" "$TOK2" "inv still reaches its own"
gendoc
run_sync
is "$RC" 0 "empty device entry exits 0"
is "$(printf '%s\n' "$OUT" | grep -c ': stopped')" 2 "both stopped ($(one_line "$OUT"))"
check "the table is gone with the last dnat tunnel" sh -c "! ip netns exec $NSD nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl)" "$RL0" "route_localnet restored"
check "the namespace's firewall bookkeeping is gone too" [ ! -e "$FW" ]

# --- without CAP_NET_ADMIN: the dnat tunnel fails with 77, a direct one in
# the same document still starts, and the output lists only what happened
python3 - "$DOC" "$SSHD/client_key" "$SPORT" <<'EOF'
import json, sys
key = open(sys.argv[2]).read()
srv = {"host": "127.0.0.1", "port": int(sys.argv[3]), "user": "root"}
d = {"version": 1, "devices": {"edge-0042": {"tunnels": [
    {"name": "inv", "server": srv, "remote": {"port": 8080},
     "target": {"host": "192.0.2.50", "port": 8443},
     "via": "dnat", "local_port": 10443, "private_key": key},
    {"name": "plain", "server": srv, "remote": {"port": 8090},
     "target": {"host": "192.0.2.51", "port": 8444}, "private_key": key}]}}}
json.dump(d, open(sys.argv[1], "w"))
EOF
if command -v capsh >/dev/null; then
	OUT=$(ip netns exec "$NSD" capsh --drop=cap_net_admin -- -c \
		"exec $TC_BIN --state-dir $STATE --settings $SETTINGS sync --source $DOC --id $DEVID" 2>"$WORK/err")
	RC=$?
	ERR=$(cat "$WORK/err")
	is "$RC" 77 "no CAP_NET_ADMIN: sync exits 77 ($(one_line "$ERR"))"
	check "the message names the tunnel and what failed" sh -c "printf '%s' '$ERR' | grep -q 'inv: start failed'"
	check "plain (direct) started anyway ($(one_line "$OUT"))" has_line '^plain: started'
	check "inv not reported as started" sh -c "! printf '%s\n' '$OUT' | grep -q '^inv'"
	check "plain up" wait_for 15 state_is plain up
	is "$(get 8090)" "$TOK2" "plain carries traffic"
	check "no half-made inv left behind" [ ! -e "$STATE/inv" ]
	check "no table made without the capability" sh -c "! ip netns exec $NSD nft list table ip tunnelctl >/dev/null 2>&1"
	run_sync
	is "$RC" 0 "with the capability back: exit 0 ($(one_line "$ERR"))"
	check "inv started, plain unchanged ($(one_line "$OUT"))" sh -c "printf '%s\n' '$OUT' | grep -q '^inv: started' && printf '%s\n' '$OUT' | grep -q '^plain: unchanged'"
	check "inv up" wait_for 15 state_is inv up
	is "$(get 8080)" "$TOK1" "inv carries traffic"
else
	skip "capsh not installed: no partial-failure case"
fi

done_testing
