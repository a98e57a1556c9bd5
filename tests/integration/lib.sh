# lib.sh: sourced by every tunnelctl integration test: TAP output, cleanup
# on exit, bounded waits, and fixtures (state dir, settings, target service).
# shellcheck shell=bash

TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TC_BUILDDIR=${TC_BUILDDIR:-$TC_SRCDIR}
TC_BIN=${TC_BIN:-$TC_BUILDDIR/bin/tunnelctl}
. "$TC_SRCDIR/tests/helpers/sshd.sh"

_tap_n=0
_tap_failed=0
_cleanups=()

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; }
diag() { echo "# $*" | sed '2,$s/^/# /'; }

# check DESC CMD...: one TAP line for whether CMD succeeds; returns CMD's
# success, so `check ... || diag ...` explains a failure.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; return 1; fi
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; diag "got '$1', want '$2'"; fi
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" = 0 ]
}

# at_exit CMD: run CMD (a string) at exit, last registered first.
at_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
}
trap _run_cleanups EXIT

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0) or time runs out (1).
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
	return 0
}

# tc_setup: a private state dir and settings file; sets STATE, SETTINGS, WORK.
tc_setup() {
	WORK=$(mktemp -d /tmp/tctest.XXXXXX)
	chmod 700 "$WORK"
	STATE=$WORK/state
	SETTINGS=$WORK/tunnelctl.conf
	: >"$SETTINGS"
	at_exit "tc_teardown"
}

# Stop every tunnel of this test's state dir, by the tool itself first, then
# by the PIDs it recorded (never by name).
tc_teardown() {
	[ -n "${STATE:-}" ] || return 0
	"$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" -q stop --all >/dev/null 2>&1
	local p
	for p in "$STATE"/*/pid; do
		[ -f "$p" ] && kill -9 "$(cut -d' ' -f1 "$p")" 2>/dev/null
	done
	rm -rf "$WORK"
}

tc() { "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" "$@"; }

# jfield NAME FIELD: FIELD of tunnel NAME in `status --json` ("" if absent).
jfield() {
	tc status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in d["tunnels"]:
    if t["name"] == sys.argv[1]:
        v = t.get(sys.argv[2])
        print("" if v is None else v)
' "$1" "$2"
}

state_is() { [ "$(jfield "$1" state)" = "$2" ]; }

# ns_serve NS ADDR PORT TOKEN: an HTTP service on ADDR:PORT (in namespace
# NS, or here when NS is "") whose /token is TOKEN, killed at exit.
ns_serve() {
	local ns=$1 addr=$2 port=$3 dir
	dir=$(mktemp -d "${WORK:-/tmp}/www.XXXXXX")
	printf '%s\n' "$4" >"$dir/token"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" python3 -m http.server "$port" --bind "$addr" --directory "$dir" >/dev/null 2>&1 &
	else
		python3 -m http.server "$port" --bind "$addr" --directory "$dir" >/dev/null 2>&1 &
	fi
	at_exit "kill $!; rm -rf $dir"
	wait_port "$addr" "$port" 5 "${DEV:-}"
}

# target_start PORT TOKEN: an HTTP service on 127.0.0.1:PORT whose /token is TOKEN.
target_start() { ns_serve "" 127.0.0.1 "$1" "$2"; }

# dnat_targets: for three_hosts' DNAT tests, two LAN pages (192.0.2.50 and
# .51, port 8443, tokens $TOKA and $TOKB) and a loopback-only service of the
# device (127.0.0.1:9999, $SECRET) that CVE-2020-8558 must never expose.
dnat_targets() {
	TOKA=tok-a-$$-$RANDOM
	TOKB=tok-b-$$-$RANDOM
	SECRET=secret-$$-$RANDOM
	ns_serve "$LAN" 192.0.2.50 8443 "$TOKA" || { echo "Bail out! lan .50"; exit 1; }
	ns_serve "$LAN" 192.0.2.51 8443 "$TOKB" || { echo "Bail out! lan .51"; exit 1; }
	ns_serve "$DEV" 127.0.0.1 9999 "$SECRET" || { echo "Bail out! device loopback service"; exit 1; }
}

# fetch_token PORT [NS]: GET /token through 127.0.0.1:PORT (optionally in NS).
fetch_token() {
	if [ -n "${2:-}" ]; then
		ip netns exec "$2" curl -s --max-time 5 "http://127.0.0.1:$1/token"
	else
		curl -s --max-time 5 "http://127.0.0.1:$1/token"
	fi
}

# loopback_fixture: the common world of a loopback test: root, autossh, a
# private state dir (tc_setup), a throwaway sshd (SSHD dir, SPORT, KEY,
# SSHD_HOSTKEY_PUB) and a target service on 127.0.0.1:TPORT serving TOKEN.
loopback_fixture() {
	need_root
	command -v autossh >/dev/null || skip_all "autossh not installed"
	tc_setup
	loopback_servers
}

# loopback_servers: the sshd and the target service of loopback_fixture alone,
# for a test that prepares its state dir itself (after tc_setup).
loopback_servers() {
	SSHD=$WORK/sshd
	sshd_setup "$SSHD" || skip_all "cannot set up sshd"
	SPORT=$(free_port)
	sshd_start "$SSHD" "$SPORT" || skip_all "cannot start sshd"
	at_exit "sshd_kill_sessions $SSHD; sshd_stop $SSHD"
	KEY=$SSHD/client_key
	TPORT=$(free_port)
	TOKEN=tok-$$-$RANDOM
	target_start "$TPORT" "$TOKEN" || skip_all "cannot start the target service"
}

# netns_up NS...: make each network namespace with its loopback up, and
# delete it at exit; bails out of the test if that fails.
netns_up() {
	local ns
	for ns in "$@"; do
		at_exit "ip netns del $ns"
		ip netns add "$ns" && ip -n "$ns" link set lo up ||
			{ echo "Bail out! ip netns add $ns"; exit 1; }
	done
}

# three_hosts PREFIX: the server / device / LAN world of a DNAT test, in
# namespaces ${PREFIX}srv$$, ${PREFIX}dev$$, ${PREFIX}lan$$ (SRV, DEV, LAN):
# server 203.0.113.1 <-> 203.0.113.2 device 192.0.2.1 <-> 192.0.2.50 LAN
# (veths vs/vds and vl/vd). A throwaway sshd listens on 203.0.113.1:22 (SSHD,
# KEY, HK); insrv/indev/inlan run a command in each, and `tc` runs tunnelctl
# in the device namespace. Everything is removed at exit.
three_hosts() {
	local p=$1
	SRV=${p}srv$$
	DEV=${p}dev$$
	LAN=${p}lan$$
	netns_up "$SRV" "$DEV" "$LAN"
	ip link add vs netns "$SRV" type veth peer name vds netns "$DEV" &&
		ip link add vl netns "$LAN" type veth peer name vd netns "$DEV" ||
		{ echo "Bail out! veth"; exit 1; }
	ip -n "$SRV" addr add 203.0.113.1/24 dev vs
	ip -n "$DEV" addr add 203.0.113.2/24 dev vds
	ip -n "$DEV" addr add 192.0.2.1/24 dev vd
	ip -n "$LAN" addr add 192.0.2.50/24 dev vl
	ip -n "$SRV" link set vs up
	ip -n "$DEV" link set vds up
	ip -n "$DEV" link set vd up
	ip -n "$LAN" link set vl up
	tc_setup
	SSHD=$WORK/sshd
	sshd_setup "$SSHD" || skip_all "cannot set up sshd"
	sshd_start_ns "$SRV" "$SSHD" 22 203.0.113.1 || skip_all "cannot start sshd in $SRV"
	at_exit "sshd_kill_sessions $SSHD; sshd_stop $SSHD"
	KEY=$SSHD/client_key
	HK=$SSHD_HOSTKEY_PUB
	# every tunnelctl command runs in the device namespace
	tc() { ip netns exec "$DEV" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" "$@"; }
}
insrv() { ip netns exec "$SRV" "$@"; }
indev() { ip netns exec "$DEV" "$@"; }
inlan() { ip netns exec "$LAN" "$@"; }

# supervisors [NAME]: how many supervisor processes of this state dir run
# (for tunnel NAME, or for all tunnels without it), found by their argv.
supervisors() {
	local f n=0
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "__supervise $STATE ${1:+$1 }" && n=$((n + 1))
	done
	echo "$n"
}

# syslog_run DIR STDIN-IS-TTY CMD...: run CMD in a private mount namespace
# whose /dev/log is a datagram socket that writes each message as one line of
# DIR/syslog; CMD's stderr goes to DIR/stderr (or a pty when STDIN-IS-TTY=1).
syslog_run() {
	local dir=$1 tty=$2
	shift 2
	: >"$dir/syslog"
	mkdir -p "$dir/olddev"
	TC_SL_DIR=$dir TC_SL_TTY=$tty unshare -m --propagation private bash -c '
set -e
d=$TC_SL_DIR
mount --rbind /dev "$d/olddev"
mount -t tmpfs -o mode=755 tc-dev /dev
for e in "$d"/olddev/* "$d"/olddev/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	n=${e##*/}
	[ "$n" = log ] && continue
	if [ -L "$e" ]; then cp -P "$e" "/dev/$n"; else ln -s "$e" "/dev/$n"; fi
done
python3 -c "
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
os.chmod(\"/dev/log\", 0o666)
open(sys.argv[1] + \"/ready\", \"w\").close()
s.settimeout(20)
with open(sys.argv[1] + \"/syslog\", \"ab\", buffering=0) as f:
    while True:
        try:
            m = s.recv(65536)
        except socket.timeout:
            break
        f.write(m.replace(b\"\\n\", b\" \") + b\"\\n\")
" "$d" &
catcher=$!
trap "kill $catcher 2>/dev/null" EXIT
for i in $(seq 50); do [ -e "$d/ready" ] && break; sleep 0.1; done
[ -e "$d/ready" ] || exit 99
set +e
if [ "$TC_SL_TTY" = 1 ]; then
	script -qec "$(printf "%q " "$@")" /dev/null >"$d/stderr" 2>&1
else
	"$@" >/dev/null 2>"$d/stderr"
fi
echo $? >"$d/rc"
sleep 0.3
' _ "$@"
	local r=$?
	rm -f "$dir/ready"
	return $r
}

# syslog_ok: 0 when syslog_run can work here (root, mount namespaces).
syslog_ok() { [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; }

# gate_world: the server side of a tunnelctl-gate test, set up as
# docs/SERVER.md says: a throwaway sshd on 127.0.0.1:$SPORT with the shipped
# examples/gate snippet, a system account $U for the devices whose login
# shell is the gate (copied to $GATE in the 0755 dir $W, so that account can
# run it), the registry $REG, a test CA ($W/ca, trusted) and an empty
# authorized_keys ($D/authorized_keys) and principals file ($D/principals)
# that tests fill with what `tunnelctl-gate authorized-key` prints. gate
# runs the gate. Everything (the account's processes, by PID) is removed at
# exit. Root.
gate_world() {
	local snip=$TC_SRCDIR/examples/gate/tunnelctl-gate.sshd.conf
	need_root
	W=$(mktemp -d /tmp/tcgate.XXXXXX)
	chmod 755 "$W"
	at_exit "rm -rf $W"
	gate_account "$W"
	D=$W/sshd
	sshd_setup "$D" || skip_all "cannot set up sshd"
	chmod 755 "$D"
	ssh-keygen -q -t ed25519 -N '' -C test-ca -f "$W/ca" </dev/null || skip_all "ssh-keygen"
	: >"$D/authorized_keys"
	: >"$D/principals"
	chmod 644 "$D/authorized_keys" "$D/principals"
	sed -e "s|^# TrustedUserCAKeys .*|TrustedUserCAKeys $W/ca.pub|" \
		-e "s|^\t# AuthorizedPrincipalsFile .*|\tAuthorizedPrincipalsFile $D/principals|" \
		-e "s|^Match User tunnel\$|Match User $U|" \
		-e "s|UnusedConnectionTimeout 30s|UnusedConnectionTimeout 6s|" "$snip" >>"$D/sshd_config"
	SPORT=$(free_port)
	sshd_start "$D" "$SPORT" || skip_all "cannot start sshd"
	at_exit "sshd_kill_sessions $D; sshd_stop $D"
}

# gate_account DIR [GROUP]: the devices' account $U whose login shell is the
# gate (copied to $GATE in DIR/bin, 0755, so that account can run it), its
# home, and the registry $REG (0750, or 2750 group GROUP for a web server
# that reads it), all under DIR; at exit every process of the account is
# killed by PID, then the account removed. Root.
gate_account() {
	local dir=$1 grp=${2:-} built=${TC_GATE:-$TC_BUILDDIR/bin/tunnelctl-gate}
	for c in ssh ssh-keygen useradd userdel usermod; do
		command -v "$c" >/dev/null || skip_all "$c not installed"
	done
	[ -x "$built" ] || skip_all "no $built (build first)"
	mkdir -m 755 "$dir/bin"
	install -m 755 "$built" "$dir/bin/tunnelctl-gate"
	GATE=$dir/bin/tunnelctl-gate
	export TUNNELCTL_GATE_PATH=$GATE	# test-only: authorized-key names this gate
	U=tcgate$$
	useradd -r -M -d "$dir/home" -s "$GATE" "$U" || skip_all "useradd failed"
	at_exit "userdel $U"
	usermod -p '*' "$U"		# no password, but not locked: sshd refuses locked accounts
	at_exit gate_reap
	install -d -o "$U" -g "$U" -m 0700 "$dir/home"
	REG=$dir/reg
	if [ -n "$grp" ]; then
		install -d -o "$U" -g "$grp" -m 2750 "$REG"
	else
		install -d -o "$U" -g "$U" -m 0750 "$REG"
	fi
	export TUNNELCTL_GATE_REGISTRY=$REG	# for list and close (sshd gives serve a clean environment)
}
gate() { "$GATE" "$@"; }

# gate_reap: every process of the gate account (sshd session processes
# outlive a killed listener) and every ssh whose argv names $W, by PID.
gate_reap() {
	local p
	for p in /proc/[0-9]*; do
		if [ "$(stat -c %U "$p" 2>/dev/null)" = "$U" ] ||
			{ [ "$(cat "$p/comm" 2>/dev/null)" = ssh ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$W/"; }; then
			kill -9 "${p#/proc/}" 2>/dev/null
		fi
	done
	sleep 0.2
}

# glist FIELD DEVICE [TUNNEL]: FIELD of that session in `list --json` ("" if none).
glist() {
	gate list --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sessions"]:
    if s["device"] == sys.argv[2] and (len(sys.argv) < 4 or s["tunnel"] == sys.argv[3]):
        v = s[sys.argv[1]]
        print(",".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v))' "$@"
}

# listening PORT: something listens on 127.0.0.1:PORT (this namespace).
listening() { ss -Htln "sport = :$1" | grep -q .; }

# rss_flat DESC KB-BEFORE KB-AFTER: the check that memory stayed flat (within
# 64 kB); skipped in a sanitizer build, whose allocator keeps freed memory in
# a quarantine on purpose (descriptors are still checked there).
rss_flat() {
	if [ -n "${TC_SANITIZED:-}" ]; then
		skip "$1 (sanitizer build: ASan's quarantine holds freed memory)"
	else
		check "$1" test $(($3 - $2)) -le 64
	fi
}

# native_doc OUT DEVICE NAME:RPORT[:OPT,...]...: write (atomically) a native
# document to OUT for loopback_fixture's world: each tunnel to the target
# service on 127.0.0.1:$TPORT through the sshd on $SPORT (root, its host key
# pinned, its client key inline); OPT: b64 (the key as base64),
# timeout=DURATION, bind=ADDR, keepalive (5 s x 2). DEVICE "-": the document
# has no entry for this device; another device's empty entry is always in it.
native_doc() {
	python3 - "$SSHD/client_key" "$SSHD_HOSTKEY_PUB" "$SPORT" "$TPORT" "$@" <<'EOF'
import base64, json, os, sys
keyf, hostkey, sport, tport, out, dev = sys.argv[1:7]
pem = open(keyf).read()
tunnels = []
for arg in sys.argv[7:]:
    parts = arg.split(":")
    name, rport = parts[0], int(parts[1])
    opts = parts[2].split(",") if len(parts) > 2 else []
    t = {"name": name,
         "server": {"host": "127.0.0.1", "port": int(sport), "user": "root",
                    "host_key": hostkey},
         "remote": {"port": rport},
         "target": {"host": "127.0.0.1", "port": int(tport)},
         "private_key": pem}
    for o in opts:
        if o == "b64":
            t["private_key"] = base64.b64encode(pem.encode()).decode()
        elif o.startswith("timeout="):
            t["timeout"] = o.split("=", 1)[1]
        elif o.startswith("bind="):
            t["remote"]["bind"] = o.split("=", 1)[1]
        elif o == "keepalive":
            t["keepalive"] = {"interval": 5, "count": 2}
    tunnels.append(t)
devices = {"edge-other": {"tunnels": []}}
if dev != "-":
    devices[dev] = {"tunnels": tunnels}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump({"version": 1, "devices": devices}, f, indent=1)
os.replace(tmp, out)
EOF
}
