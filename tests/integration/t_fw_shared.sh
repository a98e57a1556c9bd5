#!/bin/bash
# t_fw_shared.sh: two state directories on one host share the firewall
# (`ip tunnelctl` and route_localnet are per network namespace). Each keeps
# its own rules working through the other's start, stop, sync and status;
# a local port is never given to two directories; route_localnet gets its
# original value back only when neither needs it, and is never 1 without
# the CVE-2020-8558 drop rule, not even when a stop is killed half-way.
#   server 203.0.113.1 <-> 203.0.113.2 device 192.0.2.1 <-> lan 192.0.2.50, .51
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
for c in nft curl python3 ip autossh strace; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done

three_hosts tf
ip -n "$LAN" addr add 192.0.2.51/24 dev vl
SB=$WORK/state-b
# tc (from three_hosts) is directory A; tb is directory B, in the same namespace
tb() { ip netns exec "$DEV" "$TC_BIN" --state-dir "$SB" --settings "$SETTINGS" "$@"; }
at_exit "ip netns exec $DEV $TC_BIN --state-dir $SB --settings $SETTINGS -q stop --all"
# the host-wide bookkeeping of the device namespace (gone once nothing needs it)
NSINO=$(indev stat -L -c %i /proc/self/ns/net)
FW=/run/tunnelctl-fw/$NSINO
at_exit "rm -rf $FW"

dnat_targets

get() { ip netns exec "$1" curl -s --max-time 3 "$2" 2>/dev/null; }
serves() { [ "$(get "$SRV" "http://127.0.0.1:$1/token")" = "$2" ]; }
rl() { indev cat /proc/sys/net/ipv4/conf/vd/route_localnet; }
table_gone() { ! indev nft list table ip tunnelctl >/dev/null 2>&1; }
dnat_rules() { indev nft list chain ip tunnelctl output 2>/dev/null | grep -c 'dnat to'; }
# field DIR-FUNCTION NAME FIELD: a field of status --json
field() {
	"$1" status --json 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tunnels"]:
    if t["name"] == sys.argv[1]:
        v = t.get(sys.argv[2]); print("" if v is None else v)' "$2" "$3"
}
up_in() { [ "$(field "$1" "$2" state)" = up ]; }
# The promise that matters most: whenever route_localnet is 1 on the LAN
# interface, the table drops what other hosts send to 127.0.0.0/8.
drop_rule() { indev nft list chain ip tunnelctl prerouting 2>/dev/null | grep -q 'ip daddr 127.0.0.0/8 drop'; }
safe() { [ "$(rl)" = "$RL0" ] || drop_rule; }
# A LAN neighbour routes 127.0.0.1 to the device (its own local table moved
# behind ours): the device's loopback-only service must stay unreachable.
inlan sysctl -qw net.ipv4.conf.vl.route_localnet=1
inlan ip route add 127.0.0.1/32 via 192.0.2.1 dev vl table 100
inlan ip rule add pref 10 to 127.0.0.1/32 lookup 100
inlan ip rule del pref 0 lookup local
inlan ip rule add pref 100 lookup local
loopback_closed() { [ -z "$(get "$LAN" http://127.0.0.1:9999/token)" ]; }

RL0=$(rl)
start_a() {
	tc start inv --server root@203.0.113.1 --remote-port 8080 --target 192.0.2.50:8443 \
		--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" 2>&1
}
start_b() {
	tb start inv --server root@203.0.113.1 --remote-port 8081 --target 192.0.2.51:8443 \
		--via dnat --local-port 10444 --key "$KEY" --host-key "$HK" 2>&1
}

# --- both directories run a dnat tunnel named inv -----------------------------
out=$(start_a)
is "$?:$out" "0:inv: started" "A: dnat start"
check "A: inv up" wait_for 20 up_in tc inv
check "A: server 8080 reaches .50" wait_for 5 serves 8080 "$TOKA"
out=$(start_b)
is "$?:$out" "0:inv: started" "B: dnat start of a tunnel with the same name"
check "B: inv up" wait_for 20 up_in tb inv
check "B: server 8081 reaches .51" wait_for 5 serves 8081 "$TOKB"
check "A's tunnel still works after B's start" serves 8080 "$TOKA"
is "$(dnat_rules)" 2 "the table holds both directories' DNAT rules"
is "$(field tc inv last_error)" "" "status in A: inv's rules are all there"
is "$(field tb inv last_error)" "" "status in B: inv's rules are all there"
check "route_localnet is 1 only with the drop rule" safe
check "lan cannot reach the device's 127.0.0.1:9999" loopback_closed

# --- sync in one directory keeps the other's rules ---------------------------
echo '{"version": 1, "devices": {}}' >"$WORK/empty.json"
out=$(tc sync --source "file://$WORK/empty.json" --id edge-1 2>&1)
is "$?" 0 "sync in A exits 0 ($out)"
check "B's tunnel still works after A's sync" serves 8081 "$TOKB"
out=$(tb sync --source "file://$WORK/empty.json" --id edge-1 2>&1)
is "$?" 0 "sync in B exits 0 ($out)"
check "A's tunnel still works after B's sync" serves 8080 "$TOKA"
is "$(dnat_rules)" 2 "two cron jobs do not undo each other: both rules stay"
indev nft flush ruleset
out=$(tc sync --source "file://$WORK/empty.json" --id edge-1 2>&1)
check "after a flush, one directory's sync restores both directories' rules" \
	wait_for 5 sh -c "[ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8080/token)\" = $TOKA ] && [ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8081/token)\" = $TOKB ]"

# --- one local port, two directories: refused --------------------------------
out=$(tb start dup --server root@203.0.113.1 --remote-port 8086 --target 192.0.2.51:8443 \
	--via dnat --local-port 10443 --key "$KEY" --host-key "$HK" 2>&1)
rc=$?
check "B: a dnat tunnel on A's local port is refused (exit 1)" [ "$rc" = 1 ]
check "... naming the port, A's tunnel and A's state directory ($out)" \
	grep -q "10443.*'inv'.*$STATE" <<<"$out"
check "... and leaves nothing behind in B" [ ! -e "$SB/dup" ]
check "A's tunnel still reaches its own target" serves 8080 "$TOKA"

# --- stop A first, then B ----------------------------------------------------
out=$(tc stop inv 2>&1)
is "$?:$out" "0:inv: stopped" "A: stop"
check "B's tunnel survives A's last stop" serves 8081 "$TOKB"
is "$(dnat_rules)" 1 "B's rule stays"
is "$(rl)" 1 "route_localnet stays 1 while B needs it"
check "... and so does the drop rule" safe
check "lan cannot reach 127.0.0.1:9999" loopback_closed
is "$(field tb inv last_error)" "" "status in B: still clean"
out=$(tb stop inv 2>&1)
is "$?:$out" "0:inv: stopped" "B: stop"
check "the last stop of all directories removes the table" table_gone
is "$(rl)" "$RL0" "route_localnet back to its original value"
check "the bookkeeping of this namespace is gone" [ ! -e "$FW" ]
check "no firewall leftovers in A or B" sh -c "! ls -A $STATE $SB | grep -q 'fw-active\|localnet'"

# --- start A, start B, stop B first, then A ----------------------------------
start_a >/dev/null
start_b >/dev/null
both_up() { up_in tc inv && up_in tb inv; }
check "both up again" wait_for 20 both_up
out=$(tb stop inv 2>&1)
is "$(rl)" 1 "B stopped first: route_localnet stays 1 for A"
check "... with the drop rule" safe
check "A still serves" serves 8080 "$TOKA"
out=$(tc stop inv 2>&1)
check "A's stop, the last: table gone" table_gone
is "$(rl)" "$RL0" "route_localnet back to its original value (not the 1 that B saw)"

# --- a stop killed half-way (kill -9 as it restores route_localnet) ----------
# strace without -f: the firewall work is tunnelctl's own, and a traced
# supervisor would keep strace running.
start_a >/dev/null
check "A up for the crash" wait_for 20 up_in tc inv
indev strace -o /dev/null -P /proc/sys/net/ipv4/conf/vd/route_localnet \
	-e trace=openat -e inject=openat:signal=KILL "$TC_BIN" --state-dir "$STATE" \
	--settings "$SETTINGS" stop inv >/dev/null 2>&1
is "$?" 137 "stop was killed (SIGKILL) as it went to restore route_localnet"
check "after the kill: route_localnet is 1 only with the drop rule" safe
out=$(tc stop inv 2>&1)
is "$?" 0 "stop again exits 0"
check "... finishes the job: table gone" table_gone
is "$(rl)" "$RL0" "... and route_localnet has its original value"

# --- a start killed between saving route_localnet's value and setting it -----
# (the second open of the sysctl: the first one reads the value to save)
indev strace -o /dev/null -P /proc/sys/net/ipv4/conf/vd/route_localnet \
	-e trace=openat -e inject=openat:signal=KILL:when=2 "$TC_BIN" --state-dir "$STATE" \
	--settings "$SETTINGS" start inv --server root@203.0.113.1 --remote-port 8080 \
	--target 192.0.2.50:8443 --via dnat --local-port 10443 --key "$KEY" --host-key "$HK" \
	>/dev/null 2>&1
is "$?" 137 "start was killed (SIGKILL) as it went to set route_localnet"
check "after the kill: route_localnet is 1 only with the drop rule" safe
is "$(cat "$FW/localnet/vd" 2>/dev/null)" "$RL0" "the original value is saved for the namespace"
out=$(tc stop inv 2>&1)
is "$?" 0 "stop of the half-started tunnel exits 0"
check "... table gone" table_gone
is "$(rl)" "$RL0" "... route_localnet has its original value"
check "... bookkeeping gone" [ ! -e "$FW" ]

# --- a state directory removed while its tunnel ran owns nothing any more ---
start_a >/dev/null
check "A up" wait_for 20 up_in tc inv
sup=$(field tc inv pid)
kill -9 $(pgrep -s "$sup") 2>/dev/null
wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
rm -rf "$STATE"
out=$(start_b)
is "$?:$(tail -n1 <<<"$out")" "0:inv: started" "B starts after A's directory was removed"
check "... saying that A's rules go with it ($out)" grep -q "state directory $STATE no longer exists; dropping its 1 rule" <<<"$out"
check "B up" wait_for 20 up_in tb inv
is "$(dnat_rules)" 1 "A's rule was dropped with its directory; B's is there"
check "B serves" wait_for 5 serves 8081 "$TOKB"
tb stop inv >/dev/null 2>&1
check "B's stop: table gone" table_gone
is "$(rl)" "$RL0" "route_localnet has its original value"
check "bookkeeping gone" [ ! -e "$FW" ]

# --- bookkeeping left by an earlier namespace with this inode number ---------
# (its cookie differs): its records are dropped, its saved 1 is not restored
mkdir -p "$FW/owners" "$FW/localnet"
chmod 700 /run/tunnelctl-fw "$FW" "$FW/owners" "$FW/localnet"
echo 1 >"$FW/netns"
printf 'tunnelctl-fw 1\ndir /nonexistent/old\nmntns 1\nrule old 10443 192.0.2.99 80\n' >"$FW/owners/0123abcd"
echo 1 >"$FW/localnet/vd"
out=$(start_b)
is "$?:$(tail -n1 <<<"$out")" "0:inv: started" "B starts over another namespace's leftovers"
check "... saying it drops them ($out)" grep -q "was left by an earlier network namespace" <<<"$out"
is "$(dnat_rules)" 1 "... whose rule is not installed"
tb stop inv >/dev/null 2>&1
is "$(rl)" "$RL0" "route_localnet gets the value this namespace had, not the stale 1"
check "bookkeeping gone" [ ! -e "$FW" ]
check "lan cannot reach 127.0.0.1:9999 at the end" loopback_closed

done_testing
