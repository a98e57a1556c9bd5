#!/bin/bash
# t_tunnel.sh: start / stop / restart / status of --via direct tunnels with a
# real sshd on loopback and real autossh (issue: foundation).
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
loopback_fixture

# --- start, traffic, status up, stop -------------------------------------
RPORT=$(free_port)
out=$(tc start web --server "root@127.0.0.1:$SPORT" --remote-port "$RPORT" \
	--target "127.0.0.1:$TPORT" --key "$KEY" --host-key "$SSHD_HOSTKEY_PUB" 2>&1)
rc=$?
is "$rc" 0 "start exits 0"
is "$out" "web: started" "start says started"
check "status reaches up" wait_for 15 state_is web up
is "$(fetch_token "$RPORT")" "$TOKEN" "the server's remote port reaches the target"
check "state dir is 0700" [ "$(stat -c %a "$STATE/web")" = 700 ]
check "key is 0600 in the state dir" [ "$(stat -c %a "$STATE/web/key")" = 600 ]
is "$(jfield web origin)" start "origin is start"
is "$(jfield web remote_port)" "$RPORT" "status reports the remote port"
is "$(jfield web server)" "root@127.0.0.1:$SPORT" "status reports the server"
tc status web >/dev/null 2>&1
is "$?" 0 "status NAME exits 0 when up"
check "human status has a header and a row" sh -c "tc() { \"$TC_BIN\" --state-dir $STATE --settings $SETTINGS \"\$@\"; }; tc status | grep -q '^NAME' && tc status | grep -q '^web  *up'"

# The key never appears in any process's argv or environment.
keybody=$(sed -n 3p "$KEY")	# line 2 is common to all ed25519 keys; 3 is this key's own
leak=0
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
	grep -qaF -- "$keybody" "$f" 2>/dev/null && leak=1
done
is "$leak" 0 "no key bytes in /proc/*/cmdline or environ"
sup=$(jfield web pid)
ssh_pid=$(pgrep -s "$sup" -x ssh | head -1)
check "ssh runs in the supervisor's session" [ -n "$ssh_pid" ]
check "ssh argv holds -- before the host and BatchMode" sh -c "tr '\0' '\n' </proc/$ssh_pid/cmdline | grep -qx -- '--' && tr '\0' '\n' </proc/$ssh_pid/cmdline | grep -qx -- '-oBatchMode=yes'"
check "ssh uses StrictHostKeyChecking=yes with a pinned key" sh -c "tr '\0' '\n' </proc/$ssh_pid/cmdline | grep -qx -- '-oStrictHostKeyChecking=yes'"
envc=$(tr '\0' '\n' </proc/"$(cat /proc/"$ssh_pid"/stat | awk '{print $4}')"/environ | grep -vc '^AUTOSSH_\|^PWD=')
is "$envc" 0 "autossh's environment has only AUTOSSH_* variables"
check "supervisor has no stray fds (only 0-2 and its own)" sh -c "[ \$(ls /proc/$sup/fd | wc -l) -le 10 ]"

out=$(tc start web --server "root@127.0.0.1:$SPORT" --remote-port "$RPORT" \
	--target "127.0.0.1:$TPORT" --key "$KEY" --host-key "$SSHD_HOSTKEY_PUB" 2>&1)
is "$out" "web: unchanged" "starting a running tunnel with the same spec is a no-op"

out=$(tc stop web 2>&1)
is "$out" "web: stopped" "stop says stopped"
check "remote port closed after stop" wait_port_closed 127.0.0.1 "$RPORT" 5
check "state dir of the tunnel is gone" [ ! -e "$STATE/web" ]
check "ssh is gone" wait_for 5 sh -c "! kill -0 $ssh_pid 2>/dev/null"
out=$(tc stop web 2>&1); rc=$?
is "$rc" 0 "stop of an unknown tunnel exits 0"
tc status web >/dev/null 2>&1
is "$?" 3 "status of an unknown tunnel exits 3"

# --- remote port 0: the server allocates, status reports it ---------------
tc start dyn --server "root@127.0.0.1:$SPORT" --remote-port 0 --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
check "remote-port 0 tunnel comes up" wait_for 15 state_is dyn up
aport=$(jfield dyn remote_port)
check "allocated port is reported" [ -n "$aport" -a "$aport" != 0 ]
is "$(fetch_token "$aport")" "$TOKEN" "the allocated port reaches the target"
check "first-use host key was written to the tunnel's known_hosts" grep -q ssh-ed25519 "$STATE/dyn/known_hosts"
check "known_hosts is 0600" [ "$(stat -c %a "$STATE/dyn/known_hosts")" = 600 ]
tc stop dyn >/dev/null 2>&1

# --- a wrong pinned host key: failed, with a reason ------------------------
wrong="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
tc start pin --server "root@127.0.0.1:$SPORT" --remote-port "$(free_port)" --target "127.0.0.1:$TPORT" \
	--key "$KEY" --host-key "$wrong" >/dev/null 2>&1
check "wrong pinned host key ends in failed" wait_for 15 state_is pin failed
le=$(jfield pin last_error)
check "last_error says host key ($le)" sh -c "echo '$le' | grep -qi 'host key'"
check "failed tunnel's key was removed" [ ! -e "$STATE/pin/key" ]
tc stop pin >/dev/null 2>&1

# --- server down at start: retrying, then up when it starts ----------------
DOWN=$WORK/sshd2
sshd_setup "$DOWN" >/dev/null
DPORT=$(free_port)
RP2=$(free_port)
tc start late --server "root@127.0.0.1:$DPORT" --remote-port "$RP2" --target "127.0.0.1:$TPORT" \
	--key "$DOWN/client_key" --host-key "$SSHD_HOSTKEY_PUB" >/dev/null 2>&1
# a pinned key of the first sshd would be wrong for the second: pin the second's
tc stop late >/dev/null 2>&1
tc start late --server "root@127.0.0.1:$DPORT" --remote-port "$RP2" --target "127.0.0.1:$TPORT" \
	--key "$DOWN/client_key" --keepalive 2,2 >/dev/null 2>&1
check "server down: state retrying" wait_for 10 state_is late retrying
le=$(jfield late last_error)
check "server down: last_error says refused ($le)" sh -c "echo '$le' | grep -qi refused"
sshd_start "$DOWN" "$DPORT"
at_exit "sshd_kill_sessions $DOWN; sshd_stop $DOWN"
check "comes up once the server starts" wait_for 40 state_is late up
is "$(fetch_token "$RP2")" "$TOKEN" "late tunnel carries traffic"
tc stop late >/dev/null 2>&1

# --- timeout tears down a tunnel whose ssh is stopped (SIGSTOP) ------------
RP3=$(free_port)
tc start short --server "root@127.0.0.1:$SPORT" --remote-port "$RP3" --target "127.0.0.1:$TPORT" \
	--key "$KEY" --timeout 4s >/dev/null 2>&1
check "short tunnel up" wait_for 15 state_is short up
check "expires_at and remaining_s reported" sh -c "[ -n \"$(jfield short expires_at)\" ] && [ -n \"$(jfield short remaining_s)\" ]"
sup=$(jfield short pid)
sp=$(pgrep -s "$sup" -x ssh | head -1)
kill -STOP "$sp"
check "expired after the timeout, even with ssh stopped" wait_for 15 state_is short expired
check "stopped ssh was killed" wait_for 5 sh -c "! kill -0 $sp 2>/dev/null"
check "supervisor gone after expiry" wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
check "key removed on expiry" [ ! -e "$STATE/short/key" ]
check "remote port freed on expiry" wait_port_closed 127.0.0.1 "$RP3" 10
tc stop short >/dev/null 2>&1
check "stop removes the expired record" [ ! -e "$STATE/short" ]

# --- kill -9 of the supervisor: ssh dies too; status notices; stop cleans --
RP4=$(free_port)
tc start k9 --server "root@127.0.0.1:$SPORT" --remote-port "$RP4" --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
check "k9 up" wait_for 15 state_is k9 up
sup=$(jfield k9 pid)
sp=$(pgrep -s "$sup" -x ssh | head -1)
kill -9 "$sup"
check "ssh dies with its supervisor" wait_for 10 sh -c "! kill -0 $sp 2>/dev/null"
check "remote port freed" wait_port_closed 127.0.0.1 "$RP4" 10
tc status k9 >/dev/null 2>&1
is "$?" 3 "status exits 3 for the dead tunnel"
is "$(jfield k9 state)" failed "status reports it failed"
check "status cleaned the stale pidfile" [ ! -e "$STATE/k9/pid" ]
tc stop k9 >/dev/null 2>&1
check "stop cleans it" [ ! -e "$STATE/k9" ]

# --- a PID reused by an unrelated process is not mistaken -------------------
RP5=$(free_port)
tc start reuse --server "root@127.0.0.1:$SPORT" --remote-port "$RP5" --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
wait_for 15 state_is reuse up
sup=$(jfield reuse pid)
kill -9 "$sup"
wait_for 5 sh -c "! kill -0 $sup 2>/dev/null"
sleep 300 &
victim=$!
at_exit "kill $victim"
st=$(awk '{print $22}' /proc/$victim/stat)
printf '%s %s\n' "$victim" "$((st + 1))" >"$STATE/reuse/pid"   # same PID, other start time
tc status reuse >/dev/null 2>&1
is "$?" 3 "a pidfile naming an unrelated live process is stale"
tc stop reuse >/dev/null 2>&1
check "stop did not kill the unrelated process" kill -0 "$victim"
check "stop removed the tunnel" [ ! -e "$STATE/reuse" ]

# --- restart survives SIGHUP and a closed stdout ----------------------------
RP6=$(free_port)
tc start hup --server "root@127.0.0.1:$SPORT" --remote-port "$RP6" --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
wait_for 15 state_is hup up
old=$(jfield hup pid)
( "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" restart hup >&- 2>&- & p=$!; sleep 0.05; kill -HUP $p 2>/dev/null; wait $p )
check "after restart with SIGHUP and closed stdout the tunnel is up again" wait_for 20 state_is hup up
new=$(jfield hup pid)
check "it is a new supervisor ($old -> $new)" [ -n "$new" -a "$new" != "$old" ]
is "$(fetch_token "$RP6")" "$TOKEN" "restarted tunnel carries traffic"

# --- plain ssh without autossh: own restart ---------------------------------
echo "autossh = no" >"$SETTINGS"
RP7=$(free_port)
tc start plain --server "root@127.0.0.1:$SPORT" --remote-port "$RP7" --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
check "plain ssh tunnel up" wait_for 15 state_is plain up
sup=$(jfield plain pid)
check "no autossh in the plain tunnel's session" sh -c "! pgrep -s $sup -x autossh >/dev/null"
sp=$(pgrep -s "$sup" -x ssh | head -1)
kill -9 "$sp"
new_ssh_up() { state_is plain up && [ -n "$(pgrep -s "$sup" -x ssh)" ] && [ "$(pgrep -s "$sup" -x ssh | head -1)" != "$sp" ]; }
check "plain ssh restarted by the supervisor" wait_for 20 new_ssh_up
check "restarts counted ($(jfield plain restarts))" [ "$(jfield plain restarts)" -ge 1 ]
is "$(fetch_token "$RP7")" "$TOKEN" "plain tunnel carries traffic after the restart"
: >"$SETTINGS"

# --- a state dir whose path has a space (and a %): the tunnel connects -------
SP="$WORK/state dir %d"
spc() { "$TC_BIN" --state-dir "$SP" --settings "$SETTINGS" "$@"; }
spstate() { spc status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0]["state"])' 2>/dev/null; }
RPS=$(free_port)
spc start spaced --server "root@127.0.0.1:$SPORT" --remote-port "$RPS" --target "127.0.0.1:$TPORT" \
	--key "$KEY" >/dev/null 2>&1
spup() { [ "$(spstate)" = up ]; }
check "a state dir with a space and a % in its path: the tunnel comes up" wait_for 15 spup
is "$(fetch_token "$RPS")" "$TOKEN" "... and carries traffic"
check "... and ssh learnt the host key into that dir's known_hosts" test -s "$SP/spaced/known_hosts"
spc -q stop --all

# --- an ssh message no rule knows still reaches last_error -------------------
ODD=$WORK/oddssh
printf '#!/bin/sh\necho "kex_riddle: the server spoke in riddles" >&2\nexit 255\n' >"$ODD"
chmod 755 "$ODD"
for mode in autossh plain; do
	if [ "$mode" = plain ]; then printf 'ssh = %s\nautossh = no\n' "$ODD" >"$SETTINGS"
	else printf 'ssh = %s\n' "$ODD" >"$SETTINGS"; fi
	tc start odd --server "root@127.0.0.1:$SPORT" --remote-port 1 --target "127.0.0.1:1" --key "$KEY" >/dev/null 2>&1
	riddle() { jfield odd last_error | grep -q "spoke in riddles"; }
	check "$mode: an unknown ssh message reaches last_error ($(jfield odd state): $(jfield odd last_error))" wait_for 15 riddle
	check "$mode: ... and the tunnel is not 'starting' any more" sh -c '[ "$1" != starting ]' _ "$(jfield odd state)"
	tc -q stop odd
done
: >"$SETTINGS"

# --- bad flags: exit 2 naming the flag ---------------------------------------
out=$(tc start bad --server "root@127.0.0.1:$SPORT" --remote-port 70000 --target "127.0.0.1:1" --key "$KEY" 2>&1); rc=$?
is "$rc" 2 "remote port 70000 is a usage error"
check "message names --remote-port ($out)" sh -c "echo '$out' | grep -q -- --remote-port"
out=$(tc start bad --server "-oProxyCommand=x" --remote-port 1 --target "127.0.0.1:1" --key "$KEY" 2>&1); rc=$?
is "$rc" 2 "a server starting with - is refused"
out=$(tc start bad --remote-port 1 --target "127.0.0.1:1" --key "$KEY" 2>&1); rc=$?
is "$rc" 2 "missing --server is a usage error"
out=$(tc start 'Bad!' --server "root@127.0.0.1" --remote-port 1 --target "127.0.0.1:1" --key "$KEY" 2>&1); rc=$?
is "$rc" 2 "a bad tunnel name is a usage error"
out=$(tc start bad --server "root@127.0.0.1" --remote-port 1 --target "127.0.0.1:1" --key "$KEY" --timeout 5x 2>&1); rc=$?
is "$rc" 2 "a bad duration is a usage error"
check "message names --timeout" sh -c "echo '$out' | grep -q -- --timeout"
out=$(tc frobnicate 2>&1); rc=$?
is "$rc" 2 "an unknown command is a usage error"
check "nothing was left for refused starts" [ ! -e "$STATE/bad" ]

done_testing
