#!/bin/bash
# t_fault_disk.sh: a full and a read-only state dir (issue 6,
# docs/RELIABILITY.md D1-D2). The state dir is a 64 KiB tmpfs mounted in a
# private mount namespace (the script re-runs itself under `unshare -m`), so
# nothing outside sees it; sshd and autossh are real, on loopback.
#   D1 full disk: start/sync that must write fail with a clear message (exit 1),
#      the running tunnel is untouched and even survives an ssh restart
#   D2 read-only: the same; status still reports
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
command -v autossh >/dev/null || skip_all "autossh not installed"
command -v unshare >/dev/null || skip_all "needs unshare"
if [ -z "${TC_FAULT_MNTNS:-}" ]; then
	trap - EXIT
	TC_FAULT_MNTNS=1 exec unshare -m --propagation private bash "${BASH_SOURCE[0]}" "$@"
fi

tc_setup
mkdir -p "$STATE"
mount -t tmpfs -o size=64k,mode=0700 tcfault "$STATE" || skip_all "cannot mount a tmpfs"
# tc_teardown (stop --all) runs first, then the unmount
at_exit "umount -l $STATE"
loopback_servers
DOC=$WORK/doc.json
gendoc() { # NAME:RPORT...
	python3 - "$SSHD/client_key" "$SSHD_HOSTKEY_PUB" "$SPORT" "$TPORT" "$DOC" "$@" <<'EOF'
import json, os, sys
keyf, hk, sport, tport, out = sys.argv[1:6]
pem = open(keyf).read()
ts = [{"name": a.split(":")[0], "server": {"host": "127.0.0.1", "port": int(sport), "user": "root",
       "host_key": hk}, "remote": {"port": int(a.split(":")[1])},
       "target": {"host": "127.0.0.1", "port": int(tport)}, "private_key": pem,
       "keepalive": {"interval": 2, "count": 2}} for a in sys.argv[6:]]
with open(out + ".tmp", "w") as f:
    json.dump({"version": 1, "devices": {"edge-9": {"tunnels": ts}}}, f)
os.replace(out + ".tmp", out)
EOF
}
sync_() { tc sync --source "file://$DOC" --id edge-9 "$@"; }
sup_of() { jfield "$1" pid; }
R1=$(free_port)
R2=$(free_port)
R3=$(free_port)
gendoc "web:$R1"
out=$(sync_ 2>&1)
is "$?" 0 "sync on the 64 KiB tmpfs state dir starts web"
check "web up" wait_for 15 state_is web up
check "web carries traffic" [ "$(fetch_token "$R1")" = "$TOKEN" ]
S=$(sup_of web)
SSHP=$(pgrep -s "$S" -x ssh)
untouched() { [ "$(sup_of web)" = "$S" ] && kill -0 "$S" && [ "$(fetch_token "$R1")" = "$TOKEN" ]; }

# --- D1: full disk --------------------------------------------------------------
dd if=/dev/zero of="$STATE/.filler" bs=1k count=1024 >/dev/null 2>&1
check "D1: the state dir is full" sh -c "! echo x >$STATE/.probe 2>/dev/null || [ ! -s $STATE/.probe ]"
rm -f "$STATE/.probe"
out=$(tc start extra --server "root@127.0.0.1:$SPORT" --remote-port "$R3" --target "127.0.0.1:$TPORT" \
	--key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" 2>&1)
rc=$?
is "$rc" 1 "D1: start on a full disk exits 1"
check "D1: ... and says 'No space left on device' ($out)" grep -qi 'no space' <<<"$out"
check "D1: ... and leaves nothing half-made" [ ! -e "$STATE/extra" ]
check "D1: ... the remote port was never opened" wait_port_closed 127.0.0.1 "$R3" 1
gendoc "web:$R1"
out=$(sync_ 2>&1)
is "$?" 0 "D1: sync of the unchanged document on a full disk exits 0"
check "D1: web untouched (same supervisor, serving)" untouched
status_rc() { tc status >/dev/null 2>&1; echo $?; }
is "$(status_rc)" 0 "D1: status works on a full disk"
kill -9 "$SSHP"
check "D1: after ssh is killed on a full disk, the supervisor brings it back" \
	wait_for 20 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R1/token)\" = $TOKEN ] && ! kill -0 $SSHP 2>/dev/null"
check "D1: the supervisor survived" kill -0 "$S"
# A restart on a full disk may fail (clear message, old tunnel kept) or, in
# the space the old key and pidfile leave, succeed: then it must really run.
gendoc "web:$R2"
out=$(sync_ 2>&1)
rc=$?
diag "D1: sync restarting web on a full disk: exit $rc: $(echo $out)"
if [ "$rc" = 0 ]; then
	check "D1: the restart succeeded: web serves on the new port" \
		wait_for 15 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R2/token)\" = $TOKEN ]"
	# The new supervisor may have had no room left for run.json: then status
	# can only say what it last knew (starting); D2 checks it catches up.
	check "D1: ... and status says up (or starting: no room to record it)" \
		wait_for 15 sh -c "s=\$($TC_BIN --state-dir $STATE --settings $SETTINGS status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"tunnels\"][0][\"state\"])'); [ \"\$s\" = up ] || [ \"\$s\" = starting ]"
else
	check "D1: the restart failed with a clear message" grep -qi 'no space' <<<"$out"
	check "D1: ... and web still serves on the old port" untouched
fi
rm -f "$STATE/.filler"
gendoc "web:$R1"
out=$(sync_ 2>&1)
is "$?" 0 "D1: space back: sync exits 0"
check "D1: web serves on R1" wait_for 15 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R1/token)\" = $TOKEN ]"
check "D1: status says up once there is space again (run.json rewritten)" wait_for 15 state_is web up
S=$(sup_of web)
SSHP=$(pgrep -s "$S" -x ssh)
kill -9 "$SSHP"
rm -f "$STATE/.filler"
dd if=/dev/zero of="$STATE/.filler" bs=1k count=1024 >/dev/null 2>&1
check "D1: with the disk full again, ssh killed: traffic back" \
	wait_for 20 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R1/token)\" = $TOKEN ] && ! kill -0 $SSHP 2>/dev/null"
rm -f "$STATE/.filler"
check "D1: space back: status shows the restart made while the disk was full" \
	wait_for 10 sh -c "[ \"\$(\"$TC_BIN\" --state-dir $STATE --settings $SETTINGS status --json | grep -o '\"restarts\":[0-9]*')\" = '\"restarts\":1' ]"
check "D1: no temporary files left" sh -c "[ -z \"\$(find $STATE -name '*.tmp*')\" ]"

# --- D2: read-only state dir ------------------------------------------------------
# a fresh start, so that a stale run.json left by D1 does not count here
tc stop web >/dev/null 2>&1
sync_ >/dev/null 2>&1
wait_for 15 state_is web up
S=$(sup_of web)
SSHP=$(pgrep -s "$S" -x ssh)
mount -o remount,ro "$STATE" || diag "remount ro failed"
gendoc "web:$R2"
out=$(sync_ 2>&1)
rc=$?
check "D2: sync that must restart web on a read-only state dir fails (exit $rc)" [ "$rc" != 0 ]
check "D2: ... with a clear message ($(echo $out))" grep -qi 'read-only' <<<"$out"
check "D2: web untouched (same supervisor, same ssh, serving)" \
	sh -c "[ \"\$(pgrep -s $S -x ssh)\" = $SSHP ] && [ \"\$(curl -s --max-time 2 http://127.0.0.1:$R1/token)\" = $TOKEN ]"
out=$(tc start extra --server "root@127.0.0.1:$SPORT" --remote-port "$R3" --target "127.0.0.1:$TPORT" \
	--key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" 2>&1)
rc=$?
is "$rc" 1 "D2: start on a read-only state dir exits 1"
check "D2: ... and says read-only ($out)" grep -qi 'read-only' <<<"$out"
out=$(tc stop web 2>&1)
rc=$?
check "D2: stop on a read-only state dir fails (exit $rc) with a clear message ($out)" \
	sh -c "[ $rc != 0 ] && echo \"\$1\" | grep -qi 'read-only'" _ "$out"
check "D2: ... and web still serves (nothing killed that cannot be cleaned)" untouched
out=$(tc status 2>&1)
rc=$?
check "D2: status still reports on a read-only state dir (exit $rc: $(echo $out))" \
	sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q '^web  *up'" _ "$out"
kill -9 "$SSHP"
check "D2: after ssh is killed on a read-only dir, the supervisor brings it back" \
	wait_for 20 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R1/token)\" = $TOKEN ]"
mount -o remount,rw "$STATE"
check "D2: writable again: status shows the restart made while read-only" \
	wait_for 10 sh -c "[ \"\$(\"$TC_BIN\" --state-dir $STATE --settings $SETTINGS status --json | grep -o '\"restarts\":[0-9]*')\" = '\"restarts\":1' ]"
out=$(sync_ 2>&1)
is "$?" 0 "D2: writable again: sync exits 0"
check "D2: it restarts web onto the new port ($(echo $out))" grep -q '^web: restarted' <<<"$out"
check "D2: web up on the new port" wait_for 15 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R2/token)\" = $TOKEN ]"
tc stop --all >/dev/null 2>&1
check "stop --all empties the state dir of tunnels" sh -c "[ -z \"\$(ls $STATE)\" ]"
done_testing
