#!/bin/bash
# t_gate.sh: tunnelctl-gate on a real sshd set up as docs/SERVER.md says: a
# system account for the devices whose login shell is the gate itself, keys
# admitted by lines that `authorized-key` printed, a second kind of device
# admitted only by a certificate from a test CA, and a Match block with
# AllowTcpForwarding remote, PermitTTY no, X11Forwarding no,
# AllowAgentForwarding no. Devices are plain OpenSSH `ssh -n -R` sending the
# hello that tunnelctl sends. Proves: ports sshd allocated are listed,
# permitlisten holds, --max-time and the device's expiry end sessions,
# close revokes within 2 s, hostile hellos run nothing, kill -9 and an sshd
# restart leave no stale record, file modes, no key text anywhere.
# Root. TAP on stdout.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
gate_world
# --- authorized-key ---------------------------------------------------------
for k in devA devB devC devV dev2; do
	ssh-keygen -q -t ed25519 -N '' -C "$k@test" -f "$W/$k" </dev/null || skip_all "ssh-keygen"
done
PB=$(free_port)
PC=$(free_port)
lineA=$(gate authorized-key --device devA --ports 0 --registry "$REG" <"$W/devA.pub")
is "$?" 0 "authorized-key: exit 0"
is "$lineA" "restrict,port-forwarding,permitlisten=\"127.0.0.1:*\",command=\"$GATE serve --device devA --ports 0 --registry $REG\" $(cat "$W/devA.pub")" \
	"authorized-key: port 0 becomes *, the key line follows the options"
lineB=$(gate authorized-key --device devB --ports "$PB" --max-time 4s --registry "$REG" --key "$(cat "$W/devB.pub")")
check "authorized-key: --max-time and --key" \
	grep -qF "permitlisten=\"127.0.0.1:$PB\",command=\"$GATE serve --device devB --ports $PB --max-time 4s --registry $REG\" ssh-ed25519 " <<<"$lineB"
lineC=$(gate authorized-key --device devC --ports "$PC" --bind ::1 --registry "$REG" <"$W/devC.pub")
check "authorized-key: an IPv6 --bind is bracketed" grep -qF "permitlisten=\"[::1]:$PC\"" <<<"$lineC"
for bad in "--device -x --ports 1" "--device a/b --ports 1" "--device a --ports 70000" \
	"--device a --ports 1 --bind a\"b" "--device a --ports 1 --max-time forever" \
	"--device a --ports 1 --registry rel/dir" "--device a --ports 1 --key garbage"; do
	# shellcheck disable=SC2086
	gate authorized-key $bad </dev/null >/dev/null 2>"$W/err"
	is "$?" 2 "authorized-key $bad: usage error (2): $(head -c 90 "$W/err")"
done
# One answer to a bad option from every command (one option loop).
for c in serve list close authorized-key; do
	gate "$c" --frob </dev/null >/dev/null 2>"$W/err"
	is "$?" 2 "$c --frob: usage error (2)"
	check "$c --frob: unknown option" grep -q "^tunnelctl-gate: $c: unknown option '--frob'" "$W/err"
done
gate list --reason x >/dev/null 2>"$W/err"
check "list --reason: not an option of list" grep -q -- "--reason: not an option of list" "$W/err"
gate close --reason </dev/null >/dev/null 2>"$W/err"
check "close --reason (no value): needs a value" grep -q -- "--reason: needs a value" "$W/err"
gate help bogus >/dev/null 2>&1
is "$?" 2 "help bogus: usage error (2)"
gate authorized-key --device a --ports 1 --key "ssh-rsa $(cut -d' ' -f2 "$W/devA.pub")" >/dev/null 2>&1
is "$?" 2 "authorized-key: a key whose blob is of another type is refused"

# --- sshd as SERVER.md sets it up ---------------------------------------------
ssh-keygen -q -s "$W/ca" -I dev2 -n dev2-principal -V +1h "$W/dev2.pub" || skip_all "cannot sign"
cp "$W/dev2.pub" "$W/old.pub"
cp "$W/dev2" "$W/old"
ssh-keygen -q -s "$W/ca" -I old -n dev2-principal -V 20200101:20200102 "$W/old.pub"
printf '%s\n' "$lineA" "$lineB" "$lineC" >"$D/authorized_keys"
# What `authorized-key` prints, with valgrind in front (for the valgrind part).
VGLINE=$(gate authorized-key --device devV --ports 0 --registry "$REG" <"$W/devV.pub")
echo "command=\"$GATE serve --device dev2 --ports 0 --registry $REG\",restrict,port-forwarding,permitlisten=\"127.0.0.1:*\" dev2-principal" \
	>"$D/principals"
# gate_world runs sshd with the shipped snippet, for this account, with the
# certificate lines on and a shorter UnusedConnectionTimeout (the throwaway
# sshd's ClientAliveInterval 2 comes first and wins, so dead test clients go
# fast).
SNIP=$TC_SRCDIR/examples/gate/tunnelctl-gate.sshd.conf
check "the example sshd snippet has the Match block" grep -q '^Match User tunnel$' "$SNIP"
check "sshd -t accepts the config with the snippet" "$SSHD_BIN" -t -f "$D/sshd_config" -o ListenAddress=127.0.0.1:1
check "the snippet's Match block applies to the devices' account" bash -c \
	'"$1" -T -f "$2" -o ListenAddress=127.0.0.1:1 -C "user=$3,host=x,addr=127.0.0.1" | grep -qx "allowtcpforwarding remote"' \
	_ "$SSHD_BIN" "$D/sshd_config" "$U"
if command -v systemd-tmpfiles >/dev/null; then
	grp=www-data
	getent group "$grp" >/dev/null || grp=$U
	sed -e "s|/run/tunnelctl-gate|$W/tmpreg|" -e "s| tunnel www-data | $U $grp |" \
		"$TC_SRCDIR/examples/gate/tunnelctl-gate.tmpfiles" >"$W/gate.tmpfiles"
	systemd-tmpfiles --create "$W/gate.tmpfiles" >/dev/null 2>&1
	is "$(stat -c '%a %U %G' "$W/tmpreg" 2>/dev/null)" "2750 $U $grp" "the example tmpfiles line makes the registry"
else
	skip "systemd-tmpfiles not installed"
fi
TPORT=$(free_port)
TOKEN=tok-$$-$RANDOM
target_start "$TPORT" "$TOKEN" || skip_all "cannot start the target service"

# device NAME KEY RSPEC [HELLO] [ssh options...]: a device's ssh in the
# background (stdin at /dev/null, as a supervisor runs it); its stderr and
# exit status land in $W/NAME.out and $W/NAME.rc.
device() {
	local name=$1 key=$2 r=$3 hello=${4-tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0}
	shift 4 2>/dev/null || shift $#
	rm -f "$W/$name.out" "$W/$name.rc"
	(
		ssh -n -F none -i "$W/$key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$D/known_hosts" \
			-o StrictHostKeyChecking=yes -o BatchMode=yes -o ExitOnForwardFailure=yes \
			-o ServerAliveInterval=2 "$@" ${r:+-R "$r"} -p "$SPORT" "$U@127.0.0.1" ${hello:+"$hello"} \
			>"$W/$name.stdout" 2>"$W/$name.out"
		echo $? >"$W/$name.rc"
	) &
	eval "PID_$name=$!"
	at_exit "kill $! 2>/dev/null"
}
registered() { grep -q "^tunnelctl-gate: registered" "$W/$1.out"; }
ended() { [ -s "$W/$1.rc" ]; }
allocated() { sed -n 's/^Allocated port \([0-9]*\) .*/\1/p' "$W/$1.out"; }
nsessions() { gate list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))'; }
export GATE
export -f gate glist nsessions

# --- remote.port 0: the port sshd allocated is listed ---------------------------
device a devA "127.0.0.1:0:127.0.0.1:$TPORT"
check "devA registers (stdin at EOF does not end the session)" wait_for 10 registered a
PA=$(allocated a)
diag "devA: $(cat "$W/a.out")"
is "$(glist ports devA)" "$PA" "list --json shows the port sshd allocated ($PA)"
check "the registered line names device, tunnel, port and expiry" \
	grep -qx "tunnelctl-gate: registered devA/web port $PA until never" "$W/a.out"
is "$(glist tunnel devA)" web "list: tunnel from the hello"
is "$(glist target devA)" 192.0.2.50:443 "list: target as the device claimed it"
is "$(glist bind devA)" 127.0.0.1 "list: bind"
is "$(glist client devA)" 127.0.0.1 "list: client address from SSH_CONNECTION"
is "$(glist expires_at devA)" "" "list: expires_at null without an expiry"
check "list: started_at is RFC 3339 UTC" bash -c '[[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]' _ "$(glist started_at devA)"
is "$(fetch_token "$PA")" "$TOKEN" "the listed port reaches the device's target"
check "list (table) shows devA" bash -c "'$GATE' list | grep -q ' devA '"
sleep 2
check "devA is still registered after 2 s with stdin at EOF" bash -c '[ "$(glist ports devA)" = "$1" ]' _ "$PA"

# --- nothing leaks --------------------------------------------------------------
is "$(stat -c %a "$REG")" 750 "registry directory 0750"
modes=$(find "$REG" -type f -name '*.json' -printf '%m\n' | sort -u)
is "$modes" 640 "record files 0640"
keyleak=0
for k in devA devB devC devV dev2; do
	b64=$(cut -d' ' -f2 "$W/$k.pub" | cut -c1-40)
	grep -rqF "$b64" "$REG" "$D/sshd.log" "$W"/*.out 2>/dev/null && keyleak=1
done
is "$keyleak" 0 "no key text in a record, sshd's log or what devices were told"

# --- permitlisten ---------------------------------------------------------------
PX=$(free_port)
device bx devB "127.0.0.1:$PX:127.0.0.1:$TPORT"
check "devB asking for a port outside its permitlisten fails" wait_for 10 ended bx
is "$(cat "$W/bx.rc")" 255 "ssh exits 255 (ExitOnForwardFailure)"
check "sshd said the forward failed" grep -q "remote port forwarding failed" "$W/bx.out"
check "nothing listens on the refused port" bash -c "! ss -Htln 'sport = :$PX' | grep -q ."
device cb devC "127.0.0.1:$PB:127.0.0.1:$TPORT"
check "devC's key cannot bind devB's port" wait_for 10 ended cb
is "$(cat "$W/cb.rc")" 255 "devC: exit 255"
check "devB's port is not listening after devC's attempt" bash -c "! ss -Htln 'sport = :$PB' | grep -q ."

# --- --max-time ends a session the device wanted longer ------------------------
device b devB "127.0.0.1:$PB:127.0.0.1:$TPORT"
check "devB registers on its fixed port" wait_for 10 registered b
check "devB's line has an until time (max-time 4s)" grep -qE "registered devB/web port $PB until [0-9T:-]+Z$" "$W/b.out"
check "devB's port listens" listening "$PB"
check "after --max-time the device is told 'closed: expired'" wait_for 10 grep -qx "tunnelctl-gate: closed: expired" "$W/b.out"
check "devB's ssh ends" wait_for 5 ended b
is "$(cat "$W/b.rc")" 0 "devB's ssh exits 0 (the session ended as it should)"
check "devB's port is closed on the server" wait_port_closed 127.0.0.1 "$PB" 5
is "$(glist device devB)" "" "devB's record is gone"

# The device's own expiry when it comes first.
exp=$(($(date +%s) + 3))
device c devC "[::1]:$PC:127.0.0.1:$TPORT" "tunnelctl-gate hello 1 tunnel=plc target=192.0.2.60:502 expires=$exp"
check "devC registers on ::1" wait_for 10 registered c
check "devC's until is its expires" grep -qx "tunnelctl-gate: registered devC/plc port $PC until $(date -u -d @"$exp" +%Y-%m-%dT%H:%M:%SZ)" "$W/c.out"
is "$(glist bind devC)" ::1 "list: bind ::1"
check "the device's expires ends it: closed: expired" wait_for 10 grep -qx "tunnelctl-gate: closed: expired" "$W/c.out"
check "devC's ssh ends" wait_for 5 ended c

# --- close ---------------------------------------------------------------------
gate close devA/web --reason "maintenance done" >"$W/close.out" 2>&1 &
cpid=$!
t0=$(date +%s%N)
check "close: the device hears 'closed: revoked: REASON'" \
	wait_for 3 grep -qx "tunnelctl-gate: closed: revoked: maintenance done" "$W/a.out"
check "close: devA's ssh ends" wait_for 3 ended a
t1=$(date +%s%N)
wait "$cpid"
is "$?" 0 "close exits 0 when a session matched"
check "close prints what it closed" grep -q "^closed devA/web (session [0-9a-f]\{16\})" "$W/close.out"
ms=$(((t1 - t0) / 1000000))
check "the session ended within 2 s ($ms ms)" test "$ms" -lt 2000
check "devA's port is free" wait_port_closed 127.0.0.1 "$PA" 3
is "$(cat "$W/a.rc")" 0 "devA's ssh exits 0"
gate close devA >/dev/null 2>"$W/err"
is "$?" 3 "close of nothing live exits 3"
check "and says so" grep -q "no live session matches 'devA'" "$W/err"
gate close 'a;b' >/dev/null 2>&1
is "$?" 2 "close of a malformed name is a usage error"
is "$(find "$REG" -name '*.json' -o -name '*.close' | wc -l)" 0 "no record or close request left"

# --- hostile hellos: refused, nothing runs ------------------------------------
PWN=/tmp/tcgate-pwn-$$
at_exit "rm -f $PWN"
hostile=(
	"tunnelctl-gate hello 1 tunnel=web;touch\${IFS}$PWN target=192.0.2.50:443 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=\$(touch $PWN):443 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=\`touch $PWN\`:443 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 ; touch $PWN"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 | touch $PWN"
	"touch $PWN"
	"tunnelctl-gate hello 1 tunnel=Web target=192.0.2.50:443 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 device=devB"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 device=devB"
	"tunnelctl-gate hello 1 tunnel=web tunnel=x target=192.0.2.50:443 expires=0"
	"tunnelctl-gate hello 2 tunnel=web target=192.0.2.50:443 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=12"
	"tunnelctl-gate hello 1 tunnel=web target=$(printf 'a%.0s' $(seq 600)):1 expires=0"
	"tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0$(printf '\x1b')[2J"
)
i=0
for h in "${hostile[@]}"; do
	i=$((i + 1))
	device h$i devA "127.0.0.1:0:127.0.0.1:$TPORT" "$h"
done
for ((j = 1; j <= i; j++)); do
	h=${hostile[$((j - 1))]}
	wait_for 10 ended h$j
	if [ "$(cat "$W/h$j.rc" 2>/dev/null)" = 1 ] && grep -q "^tunnelctl-gate: refused: " "$W/h$j.out" &&
		! grep -q registered "$W/h$j.out"; then
		ok "hostile hello $j refused (exit 1): $(grep refused "$W/h$j.out" | head -c 110)"
	else
		not_ok "hostile hello $j refused: ${h:0:60}"
		diag "rc=$(cat "$W/h$j.rc" 2>/dev/null) $(cat "$W/h$j.out")"
	fi
done
check "no hostile hello ran anything" test ! -e "$PWN"
is "$(nsessions)" 0 "no hostile hello left a record"
device none devA "127.0.0.1:0:127.0.0.1:$TPORT" ""
check "a device that sends no hello is refused" wait_for 10 ended none
check "... saying there was no hello" grep -q "refused: no hello" "$W/none.out"
device nofwd devA "" "tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0"
check "a session with no remote forward is refused within 10 s" wait_for 14 ended nofwd
check "... saying so" grep -q "refused: no remote forward within 10 s" "$W/nofwd.out"
is "$(cat "$W/nofwd.rc")" 1 "... exit 1"
# A key's session that never runs serve (ssh -N) is dropped by
# UnusedConnectionTimeout: without it, it could hold a port unregistered.
device nn devA "127.0.0.1:0:127.0.0.1:$TPORT" "" -N
check "ssh -N (no session, no serve) is cut by UnusedConnectionTimeout" wait_for 15 ended nn
ssh -n -F none -i "$W/devA" -o IdentitiesOnly=yes -o UserKnownHostsFile="$D/known_hosts" -o BatchMode=yes \
	-o RequestTTY=force -p "$SPORT" "$U@127.0.0.1" >"$W/tty.out" 2>&1
rc=$?
check "a login asking for a terminal gets no session (ssh exit $rc)" test "$rc" != 0
check "... sshd refused the terminal (PermitTTY no)" grep -q "PTY allocation request failed" "$W/tty.out"
"$GATE" -c "/bin/sh -i" >/dev/null 2>"$W/shell.out"
is "$?" 1 "the gate as login shell refuses a command that is not its serve"
check "... saying the account only serves tunnels" grep -q "refused: this account only serves tunnels" "$W/shell.out"

# --- kill -9 of serve; a reconnecting client registers anew -------------------
device k devA "127.0.0.1:0:127.0.0.1:$TPORT"
wait_for 10 registered k
kid=$(glist id devA)
kpid=$(glist pid devA)
check "session to kill is listed" test -n "$kpid"
kill -9 "$kpid"
check "after kill -9 of serve the record is gone from list" wait_for 3 bash -c '[ -z "$(glist id devA)" ]'
check "the device's ssh ends" wait_for 5 ended k
device k2 devA "127.0.0.1:0:127.0.0.1:$TPORT"
check "the reconnecting device registers anew" wait_for 10 registered k2
check "with a new session id" bash -c '[ -n "$(glist id devA)" ] && [ "$(glist id devA)" != "$1" ]' _ "$kid"
check "and its new port" bash -c '[ "$(glist ports devA)" = "$1" ]' _ "$(allocated k2)"
gate list >/dev/null	# prunes what kill -9 left
check "list pruned the killed serve's file" test ! -e "$REG/$kid.json"

# --- the certificate route --------------------------------------------------
device cert dev2 "127.0.0.1:0:127.0.0.1:$TPORT" "tunnelctl-gate hello 1 tunnel=ssh target=localhost:22 expires=0" \
	-o CertificateFile="$W/dev2-cert.pub"
check "a device admitted by a CA-signed certificate registers" wait_for 10 registered cert
is "$(glist ports dev2)" "$(allocated cert)" "its device id comes from the principals line"
device exp old "127.0.0.1:0:127.0.0.1:$TPORT" "" -o CertificateFile="$W/old-cert.pub"
check "an expired certificate is refused by sshd" wait_for 10 ended exp
is "$(cat "$W/exp.rc")" 255 "... ssh exit 255"
check "... Permission denied" grep -q "Permission denied" "$W/exp.out"

# --- two port-0 sessions at once: never each other's port ------------------
device x1 devA "127.0.0.1:0:127.0.0.1:$TPORT" "tunnelctl-gate hello 1 tunnel=x1 target=192.0.2.50:80 expires=0"
device x2 dev2 "127.0.0.1:0:127.0.0.1:$TPORT" "tunnelctl-gate hello 1 tunnel=x2 target=192.0.2.50:80 expires=0" \
	-o CertificateFile="$W/dev2-cert.pub"
wait_for 12 bash -c 'grep -q "registered\|cannot tell\|refused" "$1" && grep -q "registered\|cannot tell\|refused" "$2"' _ "$W/x1.out" "$W/x2.out"
wrong=0
for x in x1 x2; do
	if registered "$x"; then
		grep -q "port $(allocated "$x") until" "$W/$x.out" || wrong=1
	fi
done
is "$wrong" 0 "simultaneous sessions: each registered one has its own port ($(grep -h 'registered\|cannot' "$W/x1.out" "$W/x2.out" | tr '\n' ' '))"

# --- sshd restarts -------------------------------------------------------------
# A restart of the listener alone (systemctl restart ssh) leaves running
# sessions connected: their records stay, and stay true.
live=$(nsessions)
check "sessions live before the restart" test "$live" -ge 2
sshd_restart "$D"
is "$(nsessions)" "$live" "after an sshd restart the connected sessions are still listed"
is "$(fetch_token "$(allocated cert)")" "$TOKEN" "... and their ports still work"
# Every sshd process of the sessions killed (a crash, the OOM killer, a
# reboot without /run on tmpfs): no stale record.
for m in $(cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(sshd)" {print $1}'); do
	[ "$(stat -c %U /proc/"$m" 2>/dev/null)" = "$U" ] && kill -KILL "$m"
done
check "after the sessions' sshd processes died, list is empty" wait_for 5 bash -c '[ "$(nsessions)" = 0 ]'
check "and no record file is left" wait_for 5 bash -c '[ -z "$(find "$1" -name "*.json")" ]' _ "$REG"

# --- HTML and nginx map from real records --------------------------------------
device w devA "127.0.0.1:0:127.0.0.1:$TPORT" "tunnelctl-gate hello 1 tunnel=inverter-web target=192.0.2.50:443 expires=0"
wait_for 10 registered w
PW=$(allocated w)
gate list --nginx-map --domain Tunnels.Example.COM >"$W/map"
is "$(grep inverter-web "$W/map")" "inverter-web.deva.tunnels.example.com https://127.0.0.1:$PW;" "nginx map line for a live session"
gate list --html --domain tunnels.example.com >"$W/page.html"
check "HTML page links the session" grep -qF 'href="https://inverter-web.deva.tunnels.example.com/"' "$W/page.html"
gate list --nginx-map >/dev/null 2>&1
is "$?" 2 "--nginx-map without --domain is a usage error"
gate close devA >/dev/null
check "closed" wait_for 5 ended w

# --- valgrind: serve, list and close cycles -----------------------------------
if ! command -v valgrind >/dev/null; then
	skip "valgrind not installed"
elif [ -n "${TC_SANITIZED:-}" ]; then
	skip "sanitizer build: valgrind does not mix with ASan"
else
	mkdir -m 1777 "$W/vg"
	VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes"
	# The account gets /bin/sh for this part, so sshd can start valgrind.
	usermod -s /bin/sh "$U"
	echo "${VGLINE/command=\"/command=\"$VG --log-file=$W/vg/serve.%p.log }" >>"$D/authorized_keys"
	for n in 1 2; do
		device v$n devV "127.0.0.1:0:127.0.0.1:$TPORT"
		wait_for 30 registered v$n
		$VG --log-file="$W/vg/list.$n.log" "$GATE" list --json >/dev/null
		is "$?" 0 "valgrind: list --json cycle $n"
		$VG --log-file="$W/vg/html.$n.log" "$GATE" list --html --domain example.com >/dev/null
		is "$?" 0 "valgrind: list --html cycle $n"
		if [ "$n" = 1 ]; then
			$VG --log-file="$W/vg/close.$n.log" "$GATE" close devV --reason vg >/dev/null
			is "$?" 0 "valgrind: close cycle $n"
		else
			kill "$(glist pid devV)"	# SIGTERM: the other way serve ends
		fi
		check "valgrind: serve cycle $n ended" wait_for 30 ended v$n
	done
	is "$(cat "$W/v1.rc")" 0 "valgrind: serve after close exits 0 (not 99)"
	is "$(cat "$W/v2.rc")" 1 "valgrind: serve after SIGTERM exits 1 (not 99)"
	check "valgrind: no error in any log" bash -c '! grep -l "Invalid\|uninitialised\|definitely lost: [1-9]\|indirectly lost: [1-9]" "$1"/*.log' _ "$W/vg"
	# valgrind lists the fds open at exit; those sshd passed in are
	# marked "<inherited from parent>". Anything else serve opened itself.
	python3 - "$W"/vg/serve.*.log >"$W/vgfds" <<'PY'
import re, sys
for f in sys.argv[1:]:
    lines = open(f).read().splitlines()
    for i, l in enumerate(lines):
        if re.search(r"Open (file descriptor|AF_\w+ socket) \d+", l) and not re.search(r"descriptor [012]:", l) \
                and "inherited from parent" not in (lines[i + 1] if i + 1 < len(lines) else ""):
            print(f, l)
PY
	check "valgrind: serve leaves no fd of its own open" test ! -s "$W/vgfds"
	[ -s "$W/vgfds" ] && diag "$(cat "$W/vgfds")"
	usermod -s "$GATE" "$U"
fi

# With the sanitized build (tests/run --sanitize), ASan and UBSan report on
# serve's stderr, which is what the devices were told.
check "no sanitizer report reached any device" bash -c '! grep -l "Sanitizer\|runtime error" "$@"' _ "$W"/*.out
done_testing
