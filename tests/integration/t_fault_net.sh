#!/bin/bash
# t_fault_net.sh: network faults (issue 6, docs/RELIABILITY.md N1-N4) with a
# real sshd and autossh in namespaces made here:
#   server 203.0.113.1  <-vs/vds->  203.0.113.2  device  198.51.100.2  <-vds2/vs2->  198.51.100.1 server
# tunnelctl runs in `device`; tunnel A reaches the server over vds, B over
# vds2, so one path can fail while the other is the control.
#   N1 link cut longer than the keepalive window (--keepalive 2,2)
#   N2 sshd restarted on the server (sessions killed too)
#   N3 remote port still held on the server (a listener occupies it)
#   N4 long outage (45 s): link up -> rtnetlink kick; SIGUSR1 -> kick
# Set FAULT_OUTAGE_S to change N4's outage (tests/soak uses a longer one).
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
for c in nft curl python3 ip autossh pgrep ss; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done
OUTAGE=${FAULT_OUTAGE_S:-45}

SRV=tcfsrv$$
DEV=tcfdev$$
netns_up "$SRV" "$DEV"
ip link add vs netns "$SRV" type veth peer name vds netns "$DEV" &&
	ip link add vs2 netns "$SRV" type veth peer name vds2 netns "$DEV" ||
	{ echo "Bail out! veth"; exit 1; }
ip -n "$SRV" addr add 203.0.113.1/24 dev vs
ip -n "$SRV" addr add 198.51.100.1/24 dev vs2
ip -n "$DEV" addr add 203.0.113.2/24 dev vds
ip -n "$DEV" addr add 198.51.100.2/24 dev vds2
for l in vs vs2; do ip -n "$SRV" link set "$l" up; done
for l in vds vds2; do ip -n "$DEV" link set "$l" up; done

insrv() { ip netns exec "$SRV" "$@"; }
indev() { ip netns exec "$DEV" "$@"; }

tc_setup
tc() { ip netns exec "$DEV" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" "$@"; }

SSHD=$WORK/sshd
sshd_setup "$SSHD" || skip_all "cannot set up sshd"
sshd_start_ns "$SRV" "$SSHD" 22 0.0.0.0 || skip_all "cannot start sshd in $SRV"
at_exit "sshd_kill_sessions $SSHD; sshd_stop $SSHD"
KEY=$SSHD/client_key
HK=$SSHD_HOSTKEY_PUB

# the target: an HTTP service on the device's loopback
TOKEN=tok-$$-$RANDOM
mkdir -p "$WORK/www"
echo "$TOKEN" >"$WORK/www/token"
ip netns exec "$DEV" python3 -m http.server 8443 --bind 127.0.0.1 --directory "$WORK/www" >/dev/null 2>&1 &
at_exit "kill $!"
wait_port 127.0.0.1 8443 5 "$DEV" || { echo "Bail out! target service"; exit 1; }

serves() { [ "$(insrv curl -s --max-time 2 "http://127.0.0.1:$1/token" 2>/dev/null)" = "$TOKEN" ]; }
sup_of() { jfield "$1" pid; }
nssh() { pgrep -s "$1" -x ssh | wc -l; }
# listeners PORT: how many sockets listen on the server's 127.0.0.1:PORT
listeners() { insrv ss -Hltn "sport = :$1" | wc -l; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % ($(now) - $1))"; }
# time_until SECS CMD...: wait like wait_for; print the seconds it took.
time_until() {
	local t0 secs=$1
	t0=$(now)
	shift
	wait_for "$secs" "$@" || { echo never; return 1; }
	since "$t0"
}
le() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$1" "$2" 2>/dev/null; }
start_t() { # NAME SERVER RPORT [OPTS]
	local n=$1 s=$2 r=$3
	shift 3
	tc start "$n" --server "root@$s" --remote-port "$r" --target 127.0.0.1:8443 \
		--key "$KEY" --host-key "$HK" --keepalive 2,2 "$@"
}

out=$(start_t a 203.0.113.1 8001 2>&1)
is "$?:$out" "0:a: started" "tunnel a (over vds) starts"
out=$(start_t b 198.51.100.1 8002 2>&1)
is "$?:$out" "0:b: started" "tunnel b (over vds2) starts"
check "a up" wait_for 20 state_is a up
check "b up" wait_for 20 state_is b up
check "a carries traffic" wait_for 5 serves 8001
check "b carries traffic" wait_for 5 serves 8002
SA=$(sup_of a)
SB=$(sup_of b)

# (background processes are started with `ip netns exec` itself, not through
# a shell function, so $! is the process to kill)

# --- N1: link cut longer than the keepalive window ---------------------------
SSHB=$(pgrep -s "$SB" -x ssh)
indev ip link set vds down
t=$(time_until 15 state_is a retrying)
check "N1: a reports retrying while its link is down (after $t s)" [ "$t" != never ]
sleep 6	# past keepalive 2 x 2
check "N1: still retrying during the cut" state_is a retrying
check "N1: a's last_error says why ($(jfield a last_error))" [ -n "$(jfield a last_error)" ]
is "$(sup_of b):$(pgrep -s "$SB" -x ssh)" "$SB:$SSHB" "N1: b (other link) keeps its supervisor and ssh"
check "N1: b still carries traffic" serves 8002
check "N1: at most one ssh in a's session during the cut" [ "$(nssh "$SA")" -le 1 ]
indev ip link set vds up
t=$(time_until 15 serves 8001)
check "N1: a carries traffic again within 4 s (keepalive) + backoff of the link returning ($t s)" le "$t" 8
check "N1: a up" wait_for 5 state_is a up
is "$(sup_of a)" "$SA" "N1: same supervisor"
is "$(nssh "$SA")" 1 "N1: exactly one ssh in a's session"
is "$(listeners 8001)" 1 "N1: exactly one listener on the server's port 8001"

# --- N2: sshd restarted on the server ------------------------------------------
ra=$(jfield a restarts)
rb=$(jfield b restarts)
sshd_kill_sessions "$SSHD"
sshd_stop "$SSHD"
check "N2: a notices the server went away" wait_for 10 state_is a retrying
sleep 2
sshd_start_ns "$SRV" "$SSHD" 22 0.0.0.0 || diag "sshd did not restart"
t=$(time_until 40 sh -c "[ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8001/token)\" = $TOKEN ] && [ \"\$(ip netns exec $SRV curl -s --max-time 2 http://127.0.0.1:8002/token)\" = $TOKEN ]")
check "N2: both tunnels carry traffic again after the sshd restart ($t s)" [ "$t" != never ]
check "N2: a up" wait_for 5 state_is a up
check "N2: b up" wait_for 5 state_is b up
check "N2: a's restarts counted ($ra -> $(jfield a restarts))" [ "$(jfield a restarts)" -gt "$ra" ]
check "N2: b's restarts counted ($rb -> $(jfield b restarts))" [ "$(jfield b restarts)" -gt "$rb" ]
is "$(sup_of a):$(sup_of b)" "$SA:$SB" "N2: same supervisors"
is "$(nssh "$SA"):$(nssh "$SB")" "1:1" "N2: one ssh per session"

# --- N3: the server still holds the remote port ---------------------------------
ip netns exec "$SRV" python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8003)); s.listen(1); time.sleep(600)' &
LPID=$!
at_exit "kill $LPID"
wait_port 127.0.0.1 8003 5 "$SRV"
out=$(start_t c 203.0.113.1 8003 2>&1)
is "$?:$out" "0:c: started" "N3: start with the remote port taken returns 0 (supervisor owns it)"
check "N3: c reports retrying" wait_for 15 state_is c retrying
check "N3: last_error says remote port forwarding failed ($(jfield c last_error))" \
	wait_for 10 sh -c "tc() { ip netns exec $DEV $TC_BIN --state-dir $STATE --settings $SETTINGS \"\$@\"; }; tc status --json | grep -q 'remote port forwarding failed'"
SC=$(sup_of c)
sleep 12
check "N3: after 15+ s still retrying, never failed or gone" state_is c retrying
check "N3: the supervisor is alive" kill -0 "$SC"
check "N3: it keeps trying (restarts $(jfield c restarts) > 0)" [ "$(jfield c restarts)" -gt 0 ]
check "N3: at most one ssh in c's session" [ "$(nssh "$SC")" -le 1 ]
kill "$LPID"
wait "$LPID" 2>/dev/null
t=$(time_until 40 serves 8003)
check "N3: c carries traffic once the port is freed, within autossh's 30 s cap ($t s)" le "$t" 35
check "N3: c up" wait_for 5 state_is c up
is "$(jfield c last_error)" "" "N3: last_error cleared when up"
is "$(nssh "$SC"):$(listeners 8003)" "1:1" "N3: one ssh, one listener on 8003"
tc stop c >/dev/null 2>&1
check "N3: stop frees 8003" wait_port_closed 127.0.0.1 8003 5 "$SRV"

# --- N4: long outage; the link returning and SIGUSR1 retry at once ---------------
indev ip link set vds down
indev nft add table inet tcfault
indev nft add chain inet tcfault out '{ type filter hook output priority 0; policy accept; }'
indev nft add rule inet tcfault out ip daddr 198.51.100.1 drop
check "N4: a retrying" wait_for 15 state_is a retrying
check "N4: b retrying (its packets are dropped, its link stays up)" wait_for 15 state_is b retrying
diag "N4: outage of $OUTAGE s"
sleep "$OUTAGE"
check "N4: after the outage a is retrying, its supervisor alive" sh -c "kill -0 $SA && [ \$(pgrep -s $SA -x ssh | wc -l) -le 1 ]"
check "N4: after the outage b is retrying, its supervisor alive" sh -c "kill -0 $SB && [ \$(pgrep -s $SB -x ssh | wc -l) -le 1 ]"
indev nft delete table inet tcfault
kill -USR1 "$SB"
t=$(time_until 20 serves 8002)
check "N4: SIGUSR1 after the drop ends: b carries traffic within 5 s ($t s)" le "$t" 5
check "N4: a still down (control: no kick for it yet)" sh -c "! ip netns exec $SRV curl -s --max-time 1 http://127.0.0.1:8001/token | grep -q ."
indev ip link set vds up
t=$(time_until 40 serves 8001)
check "N4: link back: a carries traffic within 5 s (rtnetlink kick) ($t s)" le "$t" 5
check "N4: a up" wait_for 5 state_is a up
check "N4: b up" wait_for 5 state_is b up
is "$(sup_of a):$(sup_of b)" "$SA:$SB" "N4: same supervisors"
is "$(nssh "$SA"):$(nssh "$SB")" "1:1" "N4: one ssh per session"
is "$(listeners 8001):$(listeners 8002)" "1:1" "N4: one listener per remote port"

tc stop --all >/dev/null 2>&1
check "stop --all frees both ports" sh -c "[ \$(ip netns exec $SRV ss -Hltn 'sport = :8001 or sport = :8002' | wc -l) = 0 ]"
done_testing
