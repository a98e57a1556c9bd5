#!/bin/bash
# t_fault_proc.sh: process faults, reboot and power loss (issue 6,
# docs/RELIABILITY.md P1-P4, R1, PL1-PL2), in namespaces made here:
#   server 203.0.113.1  <-veth->  203.0.113.2 device 192.0.2.1  <-veth->  lan 192.0.2.50
# The document (file://) has a direct tunnel `web` (target: the device's own
# 127.0.0.1:8443) and a dnat tunnel `inv` (target: lan 192.0.2.50:8443).
#   P1 supervisor kill -9   P2 autossh kill -9   P3 ssh kill -9   P4 ssh SIGSTOP
#   R1 reboot: everything killed -9, state dir wiped, table deleted
#   PL1 leftover temp files of a write cut short   PL2 tunnelctl kill -9 mid-run
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
for c in nft curl python3 ip autossh pgrep ss; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done
PL2_RUNS=${FAULT_KILL_RUNS:-12}

three_hosts tcp

TOKEN=tok-$$-$RANDOM
LTOKEN=lan-$$-$RANDOM
mkdir -p "$WORK/www" "$WORK/lwww"
echo "$TOKEN" >"$WORK/www/token"
echo "$LTOKEN" >"$WORK/lwww/token"
# started with `ip netns exec` itself so that $! is the server
ip netns exec "$DEV" python3 -m http.server 8443 --bind 127.0.0.1 --directory "$WORK/www" >/dev/null 2>&1 &
at_exit "kill $!"
ip netns exec "$LAN" python3 -m http.server 8443 --bind 192.0.2.50 --directory "$WORK/lwww" >/dev/null 2>&1 &
at_exit "kill $!"
wait_port 127.0.0.1 8443 5 "$DEV" && wait_port 192.0.2.50 8443 5 "$DEV" ||
	{ echo "Bail out! target services"; exit 1; }

DOC=$WORK/doc.json
# gendoc WEB_RPORT: web on WEB_RPORT, inv (dnat) on 8002
gendoc() {
	python3 - "$SSHD/client_key" "$SSHD_HOSTKEY_PUB" "$DOC" "$1" <<'EOF'
import json, os, sys
key, hk, out, wport = sys.argv[1:5]
pem = open(key).read()
srv = {"host": "203.0.113.1", "user": "root", "host_key": hk}
doc = {"version": 1, "devices": {"edge-1": {"tunnels": [
    {"name": "web", "server": srv, "remote": {"port": int(wport)},
     "target": {"host": "127.0.0.1", "port": 8443}, "private_key": pem,
     "keepalive": {"interval": 2, "count": 2}},
    {"name": "inv", "server": srv, "remote": {"port": 8002},
     "target": {"host": "192.0.2.50", "port": 8443}, "via": "dnat", "local_port": 10443,
     "private_key": pem, "keepalive": {"interval": 2, "count": 2}}]}}}
with open(out + ".tmp", "w") as f:
    json.dump(doc, f)
os.replace(out + ".tmp", out)
EOF
}
sync_() { tc sync --source "file://$DOC" --id edge-1 "$@"; }
get() { insrv curl -s --max-time 2 "http://127.0.0.1:$1/token" 2>/dev/null; }
web_ok() { [ "$(get "${1:-8001}")" = "$TOKEN" ]; }
inv_ok() { [ "$(get 8002)" = "$LTOKEN" ]; }
both_up() { state_is web up && state_is inv up; }
sup_of() { jfield "$1" pid; }
nssh() { pgrep -s "$1" -x ssh | wc -l; }
listeners() { insrv ss -Hltn "sport = :$1" | wc -l; }
table_rules() { indev nft list table ip tunnelctl 2>/dev/null | grep -c 'dnat to'; }
# one_each: exactly one supervisor, one ssh, one server listener per tunnel
one_each() {
	[ "$(supervisors web):$(supervisors inv)" = 1:1 ] &&
		[ "$(nssh "$(sup_of web)"):$(nssh "$(sup_of inv)")" = 1:1 ] &&
		[ "$(listeners "${1:-8001}"):$(listeners 8002)" = 1:1 ]
}
json_whole() {
	local f bad=0
	for f in "$STATE"/*/spec.json "$STATE"/*/run.json; do
		[ -e "$f" ] || continue
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null || bad=$((bad + 1))
	done
	[ "$bad" = 0 ]
}
RL_VD=$(indev cat /proc/sys/net/ipv4/conf/vd/route_localnet)

gendoc 8001
out=$(sync_ 2>&1)
is "$?" 0 "first sync exits 0"
check "web and inv up" wait_for 20 both_up
check "web carries traffic" wait_for 5 web_ok
check "inv (dnat) carries traffic" wait_for 5 inv_ok

# --- P1: supervisor kill -9 ------------------------------------------------------
S=$(sup_of web)
SSHP=$(pgrep -s "$S" -x ssh)
kill -9 "$S"
check "P1: the killed supervisor's ssh dies with it (none left in its session)" \
	wait_for 10 sh -c "[ -z \"\$(pgrep -s $S)\" ]"
check "P1: the remote port is freed" wait_port_closed 127.0.0.1 8001 10 "$SRV"
check "P1: status reports web failed, supervisor died" \
	sh -c "[ \"\$1\" = failed ] && echo \"\$2\" | grep -q died" _ "$(jfield web state)" "$(jfield web last_error)"
check "P1: status cleaned its key and pidfile" [ ! -e "$STATE/web/key" -a ! -e "$STATE/web/pid" ]
check "P1: inv untouched" inv_ok
out=$(sync_ 2>&1)
check "P1: the next sync starts web again ($(echo $out))" grep -q '^web: started' <<<"$out"
check "P1: web up" wait_for 20 state_is web up
check "P1: web carries traffic" wait_for 5 web_ok
check "P1: one supervisor, one ssh, one listener each" one_each

# --- P2: autossh kill -9 ------------------------------------------------------------
S=$(sup_of web)
r0=$(jfield web restarts)
AP=$(pgrep -s "$S" -x autossh)
SSHP=$(pgrep -s "$S" -x ssh)
check "P2: autossh found in web's session" [ -n "$AP" ]
kill -9 "$AP"
check "P2: its orphaned ssh is ended" wait_for 10 sh -c "! kill -0 $SSHP 2>/dev/null"
check "P2: a new autossh and ssh in the same session" \
	wait_for 15 sh -c "p=\$(pgrep -s $S -x autossh) && [ -n \"\$p\" ] && [ \"\$p\" != $AP ] && [ \$(pgrep -s $S -x ssh | wc -l) = 1 ]"
check "P2: web carries traffic again" wait_for 15 web_ok
check "P2: web up" wait_for 5 state_is web up
is "$(sup_of web)" "$S" "P2: same supervisor"
check "P2: one supervisor, one ssh, one listener each" one_each

# --- P3: ssh kill -9 ---------------------------------------------------------------
S=$(sup_of web)
AP=$(pgrep -s "$S" -x autossh)
SSHP=$(pgrep -s "$S" -x ssh)
r0=$(jfield web restarts)
kill -9 "$SSHP"
check "P3: autossh starts a new ssh" \
	wait_for 15 sh -c "p=\$(pgrep -s $S -x ssh) && [ -n \"\$p\" ] && [ \"\$p\" != $SSHP ]"
check "P3: web carries traffic again" wait_for 15 web_ok
check "P3: web up" wait_for 5 state_is web up
is "$(sup_of web):$(pgrep -s "$S" -x autossh)" "$S:$AP" "P3: same supervisor and autossh"
check "P3: restart counted ($r0 -> $(jfield web restarts))" [ "$(jfield web restarts)" -gt "$r0" ]
check "P3: one supervisor, one ssh, one listener each" one_each

# --- P4: ssh SIGSTOPped -------------------------------------------------------------
# The server's ClientAlive (2 x 2) drops the session within ~6 s; the stopped
# ssh notices nothing and autossh (-M 0) only watches for its exit. The
# supervisor sends its group SIGCONT every 10 s: either ssh resumes before the
# server gives up (and serves again), or it finds its session dead and autossh
# restarts it. Either way no dead tunnel stays "up".
S=$(sup_of web)
SSHP=$(pgrep -s "$S" -x ssh)
kill -STOP "$SSHP"
at_exit "kill -CONT $SSHP"
# (counted with ss: connecting to the port would keep the session busy)
check "P4: within 20 s the server freed the stopped client's port or the resumed ssh serves again" \
	wait_for 20 sh -c "[ \$(ip netns exec $SRV ss -Hltn 'sport = :8001' | wc -l) = 0 ] || [ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8001/token)\" = $TOKEN ]"
silent_dead() { state_is web up && ! web_ok; }
check "P4: within 30 s the tunnel is back or status stops saying up (no silent dead tunnel)" \
	wait_for 30 sh -c "! { [ \"\$(ip netns exec $DEV $TC_BIN --state-dir $STATE --settings $SETTINGS status --json | python3 -c 'import json,sys; print([t[\"state\"] for t in json.load(sys.stdin)[\"tunnels\"] if t[\"name\"] == \"web\"][0])')\" = up ] && [ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8001/token)\" != $TOKEN ]; }"
diag "P4: web state $(jfield web state), last_error '$(jfield web last_error)', ssh $SSHP state $(awk '{print $3}' /proc/"$SSHP"/stat 2>/dev/null)"
kill -USR1 "$S"
check "P4: SIGUSR1 to the supervisor recovers it" wait_for 15 web_ok
kill -CONT "$SSHP" 2>/dev/null
check "P4: web carries traffic after SIGCONT" wait_for 20 web_ok
check "P4: web up" wait_for 10 state_is web up
check "P4: the stopped ssh is gone (SIGUSR1 ended its group)" wait_for 10 sh -c "! kill -0 $SSHP 2>/dev/null"
check "P4: one supervisor, one ssh, one listener each" wait_for 10 one_each

# --- R1: reboot ------------------------------------------------------------------------
for n in web inv; do
	s=$(sup_of "$n")
	# a reboot kills everything at once: the whole session
	kill -9 $(pgrep -s "$s") 2>/dev/null
done
wait_port_closed 127.0.0.1 8001 10 "$SRV"
wait_port_closed 127.0.0.1 8002 10 "$SRV"
rm -rf "$STATE"
indev nft delete table ip tunnelctl
indev sysctl -qw "net.ipv4.conf.vd.route_localnet=$RL_VD"
out=$(sync_ 2>&1)
rc=$?
is "$rc" 0 "R1: sync after the reboot exits 0"
check "R1: both reported started ($(echo $out))" sh -c "echo \"\$1\" | grep -q '^web: started' && echo \"\$1\" | grep -q '^inv: started'" _ "$out"
check "R1: both up" wait_for 20 both_up
check "R1: web carries traffic" wait_for 5 web_ok
check "R1: inv (dnat) carries traffic" wait_for 5 inv_ok
is "$(table_rules)" 1 "R1: the table has inv's DNAT rule again"
is "$(indev cat /proc/sys/net/ipv4/conf/vd/route_localnet)" 1 "R1: route_localnet set again"
check "R1: one supervisor, one ssh, one listener each" one_each

# --- PL1: temp files of a write cut short ---------------------------------------------
SW=$(sup_of web)
SI=$(sup_of inv)
printf '{"name": "web", "serv' >"$STATE/web/.spec.json.tmp.99999"
: >"$STATE/web/.run.json.tmp.99998"
printf '{"state": "fai' >"$STATE/inv/.run.json.tmp.99997"
head -c 100 /dev/urandom >"$STATE/inv/.key.tmp.99996"
out=$(tc status --json 2>&1)
is "$?" 0 "PL1: status with leftover temp files exits 0"
check "PL1: status still reads both up" both_up
out=$(sync_ 2>&1)
is "$?" 0 "PL1: sync exits 0"
check "PL1: sync leaves both unchanged ($(echo $out))" sh -c "echo \"\$1\" | grep -q '^web: unchanged' && echo \"\$1\" | grep -q '^inv: unchanged'" _ "$out"
is "$(sup_of web):$(sup_of inv)" "$SW:$SI" "PL1: same supervisors"
# a spec.json truncated in place (not by tunnelctl: it never writes in place)
# must not give two supervisors: the next sync restarts the tunnel cleanly
cp "$STATE/web/spec.json" "$WORK/spec.good"
head -c 40 "$WORK/spec.good" >"$STATE/web/spec.json"
out=$(sync_ 2>&1)
is "$?" 0 "PL1: sync with a truncated spec.json exits 0"
check "PL1: web up again" wait_for 20 state_is web up
check "PL1: web carries traffic" wait_for 5 web_ok
check "PL1: one supervisor, one ssh, one listener each" wait_for 5 one_each
check "PL1: the old supervisor is gone" wait_for 10 sh -c "! kill -0 $SW 2>/dev/null"
check "PL1: every spec.json/run.json is whole JSON" json_whole
tc stop web >/dev/null 2>&1
check "PL1: stop removes web's directory, leftovers and all" [ ! -e "$STATE/web" ]
sync_ >/dev/null 2>&1
check "PL1: web back" wait_for 20 state_is web up

# --- PL2: tunnelctl kill -9 at random moments -------------------------------------------
port=8001
for ((i = 0; i < PL2_RUNS; i++)); do
	if [ "$port" = 8001 ]; then port=8011; else port=8001; fi
	gendoc "$port"
	ip netns exec "$DEV" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" -q sync \
		--source "file://$DOC" --id edge-1 >/dev/null 2>&1 &
	p=$!
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
out=$(sync_ 2>&1)
is "$?" 0 "PL2: after $PL2_RUNS runs killed -9 at random, sync exits 0"
check "PL2: both up" wait_for 20 both_up
check "PL2: web carries traffic on its final port $port" wait_for 10 web_ok "$port"
check "PL2: inv carries traffic" wait_for 5 inv_ok
check "PL2: one supervisor, one ssh, one listener each" wait_for 10 one_each "$port"
other=$((port == 8001 ? 8011 : 8001))
check "PL2: the other web port is not held" wait_port_closed 127.0.0.1 "$other" 10 "$SRV"
check "PL2: every spec.json/run.json is whole JSON" json_whole
is "$(table_rules)" 1 "PL2: one DNAT rule"
out=$(sync_ 2>&1)
check "PL2: the next sync finds everything unchanged ($(echo $out))" sh -c "echo \"\$1\" | grep -q '^web: unchanged' && echo \"\$1\" | grep -q '^inv: unchanged'" _ "$out"

tc stop --all >/dev/null 2>&1
is "$(supervisors web):$(supervisors inv)" 0:0 "stop --all: no supervisor process left"
check "stop --all: table gone" sh -c "! ip netns exec $DEV nft list table ip tunnelctl >/dev/null 2>&1"
done_testing
