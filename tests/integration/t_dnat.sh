#!/bin/bash
# t_dnat.sh: --via dnat tunnels end to end (issue 4, SPEC "Firewall"), with
# three namespaces made here:
#   server 203.0.113.1  <-veth->  203.0.113.2 device 192.0.2.1  <-veth->  lan 192.0.2.50, .51
# tunnelctl runs in `device`; a throwaway sshd in `server` receives the
# reverse forward; `lan` serves a unique token on each address.
# Traffic, the ip tunnelctl table (nft -j and netlink), foreign tables,
# route_localnet, LAN exposure, CVE-2020-8558, two tunnels, stale cleanup,
# target change without an ssh restart, flush + restore, and no CAP_NET_ADMIN.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
for c in nft curl python3 setpriv ip autossh; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done
NFTCTL=${NFTCTL:-$TC_BUILDDIR/tests/helpers/nftctl}
[ -x "$NFTCTL" ] || { echo "Bail out! $NFTCTL not built (make check builds it)"; exit 1; }

three_hosts tc
ip -n "$LAN" addr add 192.0.2.51/24 dev vl

dnat_targets
TOK1=$TOKA
TOK2=$TOKB

# get NS URL: the body, or nothing (bounded)
get() { ip netns exec "$1" curl -s --max-time 3 "$2" 2>/dev/null; }
srv_token() { get "$SRV" "http://127.0.0.1:$1/token"; }
rl() { indev cat "/proc/sys/net/ipv4/conf/$1/route_localnet"; }
table_exists() { indev nft list table ip tunnelctl >/dev/null 2>&1; }
nftctl() { indev "$NFTCTL" "$@" 2>&1; }
# Rule comments are NAME@TAG: TAG names the state dir (SHA-256 of its path)
# that owns the rule, since several may share the namespace's table.
TAG=$(printf %s "$STATE" | sha256sum | cut -c1-8)
# the namespace's firewall bookkeeping, gone once nothing needs it
FW=/run/tunnelctl-fw/$(indev stat -L -c %i /proc/self/ns/net)
at_exit "rm -rf $FW"
sup_of() { jfield "$1" pid; }
# ssh_of SUPERVISOR: the ssh in its session
ssh_of() { pgrep -s "$1" -x ssh | head -1; }
serves() { [ "$(srv_token "$1")" = "$2" ]; }

indev nft add table inet foreign
indev nft add chain inet foreign keep '{ type filter hook input priority 0; policy accept; }'
indev nft add rule inet foreign keep tcp dport 4242 counter
indev nft list table inet foreign >"$WORK/foreign.before"
foreign_same() { indev nft list table inet foreign >"$WORK/foreign.after" && cmp -s "$WORK/foreign.before" "$WORK/foreign.after"; }
RL_VD=$(rl vd)
RL_ALL=$(rl all)
RL_VDS=$(rl vds)

# --- one dnat tunnel -------------------------------------------------------
out=$(tc start inv --server root@203.0.113.1 --remote-port 8080 --target 192.0.2.50:8443 \
	--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" 2>&1)
rc=$?
is "$rc:$out" "0:inv: started" "dnat start exits 0 and says started"
check "inv reaches up" wait_for 20 state_is inv up
check "server: 127.0.0.1:8080 reaches the LAN target through the tunnel" wait_for 5 serves 8080 "$TOK1"
is "$(jfield inv via):$(jfield inv local_port):$(jfield inv target)" "dnat:10443:192.0.2.50:8443" \
	"status reports via, local_port and target"
indev nft -j list ruleset >"$WORK/json" 2>&1
check "nft -j: table ip tunnelctl exists" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["nftables"]
sys.exit(not any(x.get("table", {}).get("name") == "tunnelctl" and x["table"]["family"] == "ip" for x in o))' "$WORK/json"
check "nft -j: the DNAT rule (named inv) to 192.0.2.50:8443" \
	grep -q "\"comment\": \"inv@$TAG\".*\"dnat\": {\"addr\": \"192.0.2.50\", \"port\": 8443}\|\"dnat\": {\"addr\": \"192.0.2.50\", \"port\": 8443}.*\"comment\": \"inv@$TAG\"" "$WORK/json"
check "table has no owner flag" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["nftables"]
t = [x["table"] for x in o if x.get("table", {}).get("name") == "tunnelctl"]
sys.exit(not (len(t) == 1 and "owner" not in t[0].get("flags", [])))' "$WORK/json"
is "$(nftctl list)" "inv@$TAG 10443 192.0.2.50:8443" "netlink list: exactly the inv rule"
nftctl verify inv@$TAG:10443:192.0.2.50:8443 >/dev/null
is "$?" 0 "netlink verify: the table is exactly what inv needs"
check "foreign table unchanged after start" foreign_same
is "$(rl vd)" 1 "route_localnet on the LAN veth is 1 while the tunnel runs"
is "$(rl all)" "$RL_ALL" "all.route_localnet unchanged"
is "$(rl vds)" "$RL_VDS" "route_localnet toward the server untouched"
check "device: 127.0.0.1:10443 reaches the target" [ "$(get "$DEV" http://127.0.0.1:10443/token)" = "$TOK1" ]
check "device: its LAN address 192.0.2.1:10443 reaches the target" [ "$(get "$DEV" http://192.0.2.1:10443/token)" = "$TOK1" ]
check "device: its server-side address 203.0.113.2:10443 reaches the target" [ "$(get "$DEV" http://203.0.113.2:10443/token)" = "$TOK1" ]
check "server: device's 203.0.113.2:10443 is not forwarded" [ -z "$(get "$SRV" http://203.0.113.2:10443/token)" ]
check "lan: device's 192.0.2.1:10443 is not forwarded" [ -z "$(get "$LAN" http://192.0.2.1:10443/token)" ]

# CVE-2020-8558: lan routes 127.0.0.1 to the device (lan's own local table
# would win otherwise, so move its `local` rule behind ours).
inlan sysctl -qw net.ipv4.conf.vl.route_localnet=1
inlan ip route add 127.0.0.1/32 via 192.0.2.1 dev vl table 100
inlan ip rule add pref 10 to 127.0.0.1/32 lookup 100
inlan ip rule del pref 0 lookup local
inlan ip rule add pref 100 lookup local
check "lan: 127.0.0.1:9999 routed to the device reaches no loopback service" \
	[ -z "$(get "$LAN" http://127.0.0.1:9999/token)" ]
check "lan: 127.0.0.1:10443 routed to the device is not forwarded either" \
	[ -z "$(get "$LAN" http://127.0.0.1:10443/token)" ]

# --- two tunnels at once ---------------------------------------------------
out=$(tc start db --server root@203.0.113.1 --remote-port 8081 --target 192.0.2.51:8443 \
	--via dnat --local-port 10444 --key "$KEY" --host-key "$HK" 2>&1)
is "$?:$out" "0:db: started" "second dnat start"
check "db reaches up" wait_for 20 state_is db up
check "server: 8081 reaches the second target" wait_for 5 serves 8081 "$TOK2"
check "server: 8080 still reaches the first target" serves 8080 "$TOK1"
nftctl verify inv@$TAG:10443:192.0.2.50:8443 db@$TAG:10444:192.0.2.51:8443 >/dev/null
is "$?" 0 "netlink verify: both rules, nothing else"
out=$(tc start dup --server root@203.0.113.1 --remote-port 8086 --target 192.0.2.51:8443 \
	--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" 2>&1)
rc=$?
refused_names_inv() { [ "$rc" = 1 ] && grep -q "10443.*'inv'" <<<"$out"; }
check "a second tunnel on inv's local port is refused (exit 1, names inv)" refused_names_inv ||
	diag "rc $rc: $out"
check "... and leaves nothing behind" [ ! -e "$STATE/dup" ]
check "... the remote port was never opened" wait_port_closed 127.0.0.1 8086 1 "$SRV"
nftctl verify inv@$TAG:10443:192.0.2.50:8443 db@$TAG:10444:192.0.2.51:8443 >/dev/null
is "$?" 0 "... the table is unchanged"
check "... inv still reaches its own target" serves 8080 "$TOK1"

# --- a local port a service of the device listens on: started, with a warning
ip netns exec "$DEV" python3 -m http.server 10449 --bind 127.0.0.1 >/dev/null 2>&1 &
LPID=$!
at_exit "kill $LPID"
listening() { [ -n "$(indev ss -Hltn 'sport = :10449')" ]; }
check "a device service listens on 127.0.0.1:10449" wait_for 5 listening
out=$(tc start shadow --server root@203.0.113.1 --remote-port 8087 --target 192.0.2.51:8443 \
	--via dnat --local-port 10449 --key "$KEY" --host-key "$HK" 2>&1)
is "$?" 0 "dnat start on a listened port is not refused"
check "... but warns that local connections to 10449 will reach the target ($(tr '\n' ';' <<<"$out"))" \
	grep -q "shadow: local port 10449 is also a listening service on this device" <<<"$out"
tc stop shadow >/dev/null 2>&1
kill "$LPID"

out=$(tc stop inv 2>&1)
is "$?:$out" "0:inv: stopped" "stop inv"
check "db still serves after inv stopped" serves 8081 "$TOK2"
is "$(nftctl list)" "db@$TAG 10444 192.0.2.51:8443" "db's rule remains, inv's is gone"
is "$(rl vd)" 1 "route_localnet stays 1 while db needs it"
check "inv's remote port is closed" wait_port_closed 127.0.0.1 8080 5 "$SRV"
out=$(tc stop db 2>&1)
is "$?:$out" "0:db: stopped" "stop db (the last)"
check "the last stop removes the table" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "route_localnet back to its old value after the last stop"
is "$(rl all)" "$RL_ALL" "all.route_localnet never changed"
check "foreign table unchanged after stop" foreign_same
check "no saved route_localnet left: the namespace's bookkeeping is gone" [ ! -e "$FW" ]
# control for the CVE-2020-8558 checks above: route_localnet without our
# table does expose the device's loopback service to lan
indev sysctl -qw net.ipv4.conf.vd.route_localnet=1
check "control: without the table, route_localnet exposes 127.0.0.1:9999 to lan" \
	[ "$(get "$LAN" http://127.0.0.1:9999/token)" = "$SECRET" ]
indev sysctl -qw "net.ipv4.conf.vd.route_localnet=$RL_VD"

# --- restart keeps the rule; the timeout removes it --------------------------
tc start inv --server root@203.0.113.1 --remote-port 8080 --target 192.0.2.50:8443 \
	--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" >/dev/null 2>&1
check "inv up for restart" wait_for 20 state_is inv up
out=$(tc restart inv 2>&1)
is "$?" 0 "restart of a dnat tunnel exits 0"
check "inv up after restart" wait_for 20 state_is inv up
check "server: 8080 serves after restart" wait_for 5 serves 8080 "$TOK1"
is "$(nftctl list)" "inv@$TAG 10443 192.0.2.50:8443" "the rule is in place after restart"
tc stop inv >/dev/null 2>&1
tc start short --server root@203.0.113.1 --remote-port 8083 --target 192.0.2.51:8443 \
	--via dnat --local-port 10447 --key "$KEY" --host-key "$HK" --timeout 4 >/dev/null 2>&1
check "short reaches up" wait_for 20 state_is short up
check "server: 8083 serves before the timeout" wait_for 5 serves 8083 "$TOK2"
check "short expires" wait_for 20 state_is short expired
check "expiry removes the table (the supervisor's own cleanup)" \
	wait_for 5 sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "expiry restores route_localnet"
tc stop short >/dev/null 2>&1

echo '{"version": 1, "devices": {}}' >"$WORK/empty.json"
# --- a target without a route (LAN link down) does not block other tunnels --
tc start inv --server root@203.0.113.1 --remote-port 8080 --target 192.0.2.50:8443 \
	--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" >/dev/null 2>&1
tc start up --server root@203.0.113.1 --remote-port 8084 --target 203.0.113.1:22 \
	--via dnat --local-port 10448 --key "$KEY" --host-key "$HK" >/dev/null 2>&1
both_up() { state_is inv up && state_is up up; }
check "inv and up (target on the server side) both up" wait_for 20 both_up
is "$(rl vds)" 1 "route_localnet on the server-side veth while 'up' needs it"
indev ip link set vd down
out=$(tc start lan2 --server root@203.0.113.1 --remote-port 8085 --target 192.0.2.51:8443 \
	--via dnat --local-port 10449 --key "$KEY" --host-key "$HK" 2>&1)
rc=$?
check "starting a tunnel whose target has no route fails (exit 1)" [ "$rc" = 1 ]
check "... and says why" grep -qi "unreachable\|route" <<<"$out"
[ $? = 0 ] || diag "$out"
check "... and leaves nothing behind" [ ! -e "$STATE/lan2" ]
out=$(tc stop up 2>&1)
is "$?:$out" "0:up: stopped" "stop of another tunnel works while inv's target has no route"
is "$(nftctl list)" "inv@$TAG 10443 192.0.2.50:8443" "inv's rule remains"
is "$(rl vd)" 1 "route_localnet toward inv's unroutable target is kept on"
is "$(rl vds)" 1 "... and, not knowing inv's interface, nothing is restored yet"
indev ip link set vd up
check "inv serves again once the link is back" wait_for 10 serves 8080 "$TOK1"
is "$(jfield inv last_error)" "" "status: inv's own rules are intact, so the leftover on vds is not blamed on inv"
tc sync --source "file://$WORK/empty.json" --id edge-1 >/dev/null 2>&1
is "$(rl vds)" "$RL_VDS" "the next sync restores route_localnet on the server-side veth"
is "$(rl vd)" 1 "... and keeps it on toward inv's target"
is "$(jfield inv last_error)" "" "status is still clean"
tc stop inv >/dev/null 2>&1
check "table gone" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "route_localnet on the LAN veth restored"

# --- kill -9 the supervisor, then stop (and then status) --------------------
start_inv() {
	tc start inv --server root@203.0.113.1 --remote-port 8080 --target 192.0.2.50:8443 \
		--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" >/dev/null 2>&1
}
start_inv
check "inv up again" wait_for 20 state_is inv up
sup=$(sup_of inv)
sshp=$(ssh_of "$sup")
kill -9 "$sup"
check "killed supervisor is gone" wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
check "its ssh dies with it" wait_for 10 sh -c "! kill -0 $sshp 2>/dev/null"
check "the dead tunnel's rule is still there before anyone looks" table_exists
out=$(tc stop inv 2>&1)
is "$?" 0 "stop after kill -9 exits 0"
check "table gone after stopping the dead tunnel" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "route_localnet restored after the dead tunnel's stop"
start_inv
check "inv up once more" wait_for 20 state_is inv up
sup=$(sup_of inv)
kill -9 "$sup"
wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
st=$(tc status --json 2>/dev/null)
check "status reports the dead tunnel (failed, supervisor died)" python3 -c '
import json, sys
t = [x for x in json.loads(sys.argv[1])["tunnels"] if x["name"] == "inv"]
sys.exit(not (t and t[0]["state"] == "failed" and "died" in (t[0]["last_error"] or "")))' "$st"
[ $? = 0 ] || diag "$st"
check "status cleaned the dead tunnel's rule" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "route_localnet restored by that cleanup"
out=$(tc stop inv 2>&1)
is "$?" 0 "stop of the cleaned tunnel exits 0"
start_inv
check "inv up for SIGTERM" wait_for 20 state_is inv up
sup=$(sup_of inv)
kill -TERM "$sup"
check "SIGTERM from outside: the supervisor removes the table itself" \
	wait_for 10 sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "... and restores route_localnet"
tc stop inv >/dev/null 2>&1

# --- status compares each tunnel with its own rules --------------------------
tc start db --server root@203.0.113.1 --remote-port 8081 --target 192.0.2.51:8443 \
	--via dnat --local-port 10444 --key "$KEY" --host-key "$HK" >/dev/null 2>&1
start_inv
both_up() { state_is inv up && state_is db up; }
check "inv and db up" wait_for 20 both_up
check "server: 8081 reaches db's target" wait_for 5 serves 8081 "$TOK2"
sup=$(sup_of inv)
kill -9 "$sup"
wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
# one status run: it cleans up after inv, then checks db
st=$(tc status --json 2>/dev/null)
field_of() { python3 -c '
import json, sys
t = [x for x in json.loads(sys.argv[1])["tunnels"] if x["name"] == sys.argv[2]]
print(t and "%s|%s" % (t[0]["state"], t[0]["last_error"] or ""))' "$st" "$1"; }
check "kill -9 of inv's supervisor: status says inv failed" grep -q '^failed|.*died' <<<"$(field_of inv)"
is "$(field_of db)" "up|" "... and db, whose rules are intact, is not flagged (cleanup before check)"
is "$(nftctl list)" "db@$TAG 10444 192.0.2.51:8443" "... the cleanup removed inv's rule and kept db's"
tc stop inv >/dev/null 2>&1
start_inv
check "inv up again" wait_for 20 both_up
# someone deletes db's DNAT rule by hand
h=$(indev nft -a list chain ip tunnelctl output | sed -n "s/.*comment \"db\(@$TAG\)\?\" # handle \([0-9]*\)\$/\2/p")
indev nft delete rule ip tunnelctl output handle "$h"
check "db's rule deleted by hand: its traffic stops" wait_for 5 sh -c "[ -z \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8081/token)\" ]"
check "status flags db: its firewall rule is missing" grep -qi 'firewall rule' <<<"$(jfield db last_error)"
is "$(jfield inv last_error)" "" "... and not inv, whose rules are intact"
tc status db >/dev/null 2>&1
is "$?" 3 "status db exits 3 (not up)"
tc status inv >/dev/null 2>&1
is "$?" 0 "status inv exits 0"
out=$(tc sync --source "file://$WORK/empty.json" --id edge-1 2>&1)
is "$?" 0 "sync exits 0 ($out)"
check "sync restored db's rule: traffic flows" wait_for 5 serves 8081 "$TOK2"
tc status db >/dev/null 2>&1
is "$?" 0 "status db exits 0 again"
tc stop inv db >/dev/null 2>&1
check "table gone after both stopped" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"

# --- sync: a target change keeps ssh ---------------------------------------
DOCS=$WORK/docs
mkdir -p "$DOCS"
write_doc() {
	python3 - "$DOCS/tunnels.json" "$1" "$KEY" "$HK" <<'EOF'
import json, sys
path, host, key, hk = sys.argv[1:5]
doc = {"version": 1, "devices": {"edge-1": {"tunnels": [{
    "name": "web",
    "server": {"host": "203.0.113.1", "user": "root", "host_key": hk},
    "remote": {"port": 8082},
    "target": {"host": host, "port": 8443},
    "via": "dnat", "local_port": 10445,
    "private_key": open(key).read()}]}}}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f)
import os
os.replace(tmp, path)
EOF
}
write_doc 192.0.2.50
# `ip netns exec` execs the server, so $! is its PID (a function would fork).
ip netns exec "$DEV" python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$DOCS" --portfile "$WORK/httpd.port" \
	--logfile "$WORK/httpd.log" >/dev/null 2>&1 &
at_exit "kill $!"
wait_for 5 test -s "$WORK/httpd.port" || { echo "Bail out! httpd.py"; exit 1; }
SRC_URL=http://127.0.0.1:$(cat "$WORK/httpd.port")/tunnels.json
out=$(tc sync --source "$SRC_URL" --id edge-1 2>&1)
is "$?" 0 "sync starts the document's dnat tunnel"
check "sync says started" grep -q '^web: started' <<<"$out"
check "web reaches up" wait_for 20 state_is web up
check "server: 8082 reaches .50" wait_for 5 serves 8082 "$TOK1"
sup1=$(sup_of web)
ssh1=$(ssh_of "$sup1")
check "ssh of web found" [ -n "$ssh1" ]
write_doc 192.0.2.51
out=$(tc sync --source "$SRC_URL" --id edge-1 2>&1)
is "$?" 0 "sync after changing only target.host exits 0"
check "sync reports restarted (target changed...)" grep -q '^web: restarted.*target changed' <<<"$out"
[ $? = 0 ] || diag "$out"
is "$(sup_of web)" "$sup1" "supervisor PID unchanged"
is "$(ssh_of "$sup1")" "$ssh1" "ssh PID unchanged"
check "server: 8082 now reaches .51" wait_for 5 serves 8082 "$TOK2"
is "$(jfield web target)" "192.0.2.51:8443" "status reports the new target"
is "$(nftctl list)" "web@$TAG 10445 192.0.2.51:8443" "the rule points at the new target"
out=$(tc sync --source "$SRC_URL" --id edge-1 2>&1)
check "a third sync leaves it unchanged" grep -q '^web: unchanged' <<<"$out"

# --- someone flushes the ruleset -------------------------------------------
indev nft flush ruleset
check "flushed: no traffic" [ -z "$(srv_token 8082)" ]
le=$(jfield web last_error)
check "status: last_error mentions the firewall rule" grep -qi 'firewall rule' <<<"$le"
[ $? = 0 ] || diag "last_error: $le"
out=$(tc sync --source "$SRC_URL" --id edge-1 2>&1)
is "$?" 0 "sync after the flush exits 0"
nftctl verify web@$TAG:10445:192.0.2.51:8443 >/dev/null
is "$?" 0 "sync restored the rule"
check "traffic flows again" wait_for 5 serves 8082 "$TOK2"
is "$(jfield web last_error)" "" "last_error clear after the restore"
is "$(ssh_of "$sup1")" "$ssh1" "restoring the rule kept ssh"
# the LAN interface is re-created (USB NIC re-plugged): route_localnet is 0 again
# recreate_lan: delete the device's LAN veth and make it again, addresses and all
recreate_lan() {
	indev ip link del vd
	ip link add vl netns "$LAN" type veth peer name vd netns "$DEV" || echo "# veth re-create failed"
	indev ip addr add 192.0.2.1/24 dev vd
	indev ip link set vd up
	inlan ip addr add 192.0.2.50/24 dev vl
	inlan ip addr add 192.0.2.51/24 dev vl
	inlan ip link set vl up
}
recreate_lan
wait_port 192.0.2.51 8443 5 "$DEV"
check "re-created interface: route_localnet is 0, traffic broken" \
	[ "$(rl vd):$(srv_token 8082)" = "0:" ]
le=$(jfield web last_error)
check "status: last_error says the firewall needs restoring" grep -qi 'firewall' <<<"$le"
out=$(tc sync --source "$SRC_URL" --id edge-1 2>&1)
is "$?" 0 "sync after the re-creation exits 0"
is "$(rl vd)" 1 "sync set route_localnet on the new interface"
check "traffic flows again after the re-creation" wait_for 5 serves 8082 "$TOK2"
# --- watch repairs what sync repairs, without being asked ------------------
# Its idle rounds skip the converge while nothing it bears on changed (see
# lib/quiet.c); these are the changes that must still reach it.
ip netns exec "$DEV" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" -v watch --source "$SRC_URL" \
	--id edge-1 --interval 1h 2>"$WORK/watch.err" &
WPID=$!
at_exit "kill -9 $WPID"
wrounds() { sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$STATE/watch.json" 2>/dev/null; }
usr1() { local r; r=$(wrounds); kill -USR1 "$WPID"; wait_for 10 sh -c "[ \"\$(sed -n 's/.*\"rounds\":\([0-9]*\).*/\1/p' $STATE/watch.json)\" -gt $r ]"; }
check "watch: started" wait_for 10 test -s "$STATE/watch.json"
usr1
# An idle round: a 304 and nothing else (no tunnel record read).
strace -f -e trace=openat -o "$WORK/idle.strace" -p "$WPID" 2>/dev/null &
STP=$!
sleep 0.5
usr1
sleep 0.2
kill "$STP"; wait "$STP" 2>/dev/null
check "watch: an idle round reads no tunnel record" sh -c "! grep -q 'web' $WORK/idle.strace"
check "watch: ... but did write watch.json" grep -q 'watch.json.tmp' "$WORK/idle.strace"
indev nft flush ruleset
check "watch: flushed: no traffic" [ -z "$(srv_token 8082)" ]
usr1
check "watch: the next round restores the flushed rule" wait_for 5 serves 8082 "$TOK2"
is "$(ssh_of "$sup1")" "$ssh1" "watch: restoring the rule kept ssh"
recreate_lan
rl_set() { [ "$(rl vd)" = 1 ]; }
check "watch: a re-created interface gets route_localnet at its link event" wait_for 10 rl_set
[ $? = 0 ] || diag "route_localnet $(rl vd), rounds $(wrounds); $(cat "$WORK/watch.err")"
check "watch: traffic flows again after the re-creation" wait_for 5 serves 8082 "$TOK2"
kill -9 "$sup1"
check "watch: web's supervisor killed: no traffic" wait_for 10 sh -c "[ -z \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8082/token)\" ]"
usr1
check "watch: the next round starts web again" wait_for 20 serves 8082 "$TOK2"
check "watch: a new supervisor" test "$(sup_of web)" != "$sup1"
kill -TERM "$WPID"
wait "$WPID" 2>/dev/null
is "$?" 0 "watch: SIGTERM exits 0"
check "watch: nothing else logged" sh -c "! grep -v -e 'watch: network changed' -e 'web: supervisor (pid $sup1) died; cleaned up' \
	-e '^tunnelctl: watch: http' $WORK/watch.err | grep -q ."
[ $? = 0 ] || diag "$(cat "$WORK/watch.err")"

out=$(tc stop web 2>&1)
check "the last stop removes the table again" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
is "$(rl vd)" "$RL_VD" "route_localnet restored again"

# --- no CAP_NET_ADMIN ------------------------------------------------------
NSTATE=$WORK/nobody-state
mkdir -p "$NSTATE"
chown 65534:65534 "$NSTATE"
chmod 755 "$WORK"
cp "$KEY" "$WORK/nobody_key"
chown 65534:65534 "$WORK/nobody_key"
out=$(indev setpriv --reuid 65534 --regid 65534 --clear-groups "$TC_BIN" --state-dir "$NSTATE" \
	--settings "$SETTINGS" start np --server root@203.0.113.1 --remote-port 8083 \
	--target 192.0.2.50:8443 --via dnat --local-port 10446 --key "$WORK/nobody_key" --host-key "$HK" 2>&1)
rc=$?
chmod 700 "$WORK"
is "$rc" 77 "dnat start without CAP_NET_ADMIN exits 77"
check "the message says CAP_NET_ADMIN" grep -q CAP_NET_ADMIN <<<"$out"
[ $? = 0 ] || diag "$out"
check "nothing started: no tunnel dir" [ ! -e "$NSTATE/np" ]
check "nothing started: no table" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
check "nothing started: remote port closed" wait_port_closed 127.0.0.1 8083 1 "$SRV"

done_testing
