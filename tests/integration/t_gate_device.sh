#!/bin/bash
# t_gate_device.sh: the device's half of the gate, end to end: tunnelctl as
# the device (its own key from `tunnelctl key`, documents without a private
# key, server.gate) against a real sshd whose devices' account runs
# `tunnelctl-gate serve` from lines that `authorized-key` printed, and a
# device admitted only by a certificate a test CA signed. Proves: the port
# sshd allocated is the one the device reports, permitlisten holds (never
# up, nothing listening), --max-time makes the tunnel expired and sync keeps
# it down, close makes it revoked within 2 s and sync keeps it down until
# its spec changes, an expired certificate fails with ssh's reason and a
# renewed one (written without a restart) restores it, and an account
# without the gate is failed, saying so. Root. TAP.
. "$(dirname "$0")/lib.sh"

command -v autossh >/dev/null || skip_all "autossh not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
gate_world
tc_setup
TPORT=$(free_port)
TOKEN=tok-$$-$RANDOM
target_start "$TPORT" "$TOKEN" || skip_all "cannot start the target service"
HK=$SSHD_HOSTKEY_PUB

# --- tunnelctl key ---------------------------------------------------------------
printf 'key = %s/devkey/id_ed25519\n' "$WORK" >"$SETTINGS"
pub=$(tc key 2>"$WORK/err")
is "$?" 0 "key: exit 0"
check "key prints a public key line ($(cut -c1-30 <<<"$pub")...)" grep -qE '^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ tunnelctl@' <<<"$pub"
is "$(stat -c %a "$WORK/devkey/id_ed25519")" 600 "the key file is 0600"
is "$(stat -c %a "$WORK/devkey")" 700 "its directory is 0700"
is "$(tc key)" "$pub" "key again: the same key, only printed"
tc --json key >"$WORK/key.json"
check "key --json: path, public_key, fingerprint" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["fingerprint", "path", "public_key"], d
assert d["path"] == sys.argv[2] and d["public_key"] == sys.argv[3], d
assert d["fingerprint"].startswith("SHA256:"), d' "$WORK/key.json" "$WORK/devkey/id_ed25519" "$pub" ||
	diag "key --json: $(cat "$WORK/key.json")"
check "no private key text was printed" bash -c '! grep -q "PRIVATE KEY" "$1"' _ "$WORK/key.json"

# The server admits this device key for port $PA only, edge-2's for $PB.
PA=$(free_port)
PB=$(free_port)
gate authorized-key --device edge-1 --ports "$PA" --registry "$REG" <<<"$pub" >>"$D/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -C edge-2 -f "$WORK/k2" </dev/null
gate authorized-key --device edge-2 --ports "$PB" --max-time 5s --registry "$REG" <"$WORK/k2.pub" >>"$D/authorized_keys"

# doc FILE DEVICE NAME RPORT [key=FILE] [timeout=T] [target=PORT]: a native
# document with one gate tunnel (and no private key unless key= is given).
doc() {
	local file=$1 dev=$2 name=$3 rport=$4 key= timeout= tport=$TPORT a
	shift 4
	for a in "$@"; do
		case $a in
		key=*) key=", \"private_key\": \"$(base64 -w0 "${a#key=}")\"" ;;
		timeout=*) timeout=", \"timeout\": \"${a#timeout=}\"" ;;
		target=*) tport=${a#target=} ;;
		cert=*) key="$key, \"certificate\": \"$(cat "${a#cert=}")\"" ;;
		esac
	done
	cat >"$file" <<EOF
{"version": 1, "devices": {"$dev": {"tunnels": [
 {"name": "$name", "server": {"host": "127.0.0.1", "port": $SPORT, "user": "$U",
   "host_key": "$HK", "gate": true},
  "remote": {"port": $rport}, "target": {"host": "127.0.0.1", "port": $tport}$key$timeout}]}}}
EOF
}
sync_() { tc sync --source "$1" --id "$2" 2>"$WORK/sync.err"; }

# --- a document without a private key: the device key, through the gate ------------
doc "$WORK/a.json" edge-1 web "$PA"
out=$(sync_ "$WORK/a.json" edge-1)
is "$?" 0 "sync of a document without a private key exits 0 ($out)"
check "the tunnel comes up through the gate ($(jfield web state): $(jfield web last_error))" wait_for 20 state_is web up
aport=$(jfield web remote_port)
is "$aport" "$PA" "status reports the port"
gport() { [ "$(glist ports edge-1 web)" = "$aport" ]; }
check "list --json on the server shows the same port" wait_for 5 gport
is "$(glist target edge-1 web)" "127.0.0.1:$TPORT" "list: the target the device claimed"
is "$(fetch_token "$aport")" "$TOKEN" "the port carries traffic to the target"
cmp -s "$STATE/web/key" "$WORK/devkey/id_ed25519"
is "$?" 0 "the tunnel's key is a copy of the device key"

# --- close: revoked within 2 s, the port freed, sync keeps it down --------------------
t0=$(date +%s%N)
gate close edge-1/web --reason "site visit over" >/dev/null
is "$?" 0 "close edge-1/web exits 0"
check "the device says revoked within 2 s" wait_for 2 state_is web revoked
diag "revoked after $(( ($(date +%s%N) - t0) / 1000000 )) ms: $(jfield web last_error)"
check "last_error gives the operator's reason" bash -c 'grep -q "site visit over" <<<"$1"' _ "$(jfield web last_error)"
check "the server's port is freed" wait_for 5 bash -c "! ss -Htln 'sport = :$aport' | grep -q ."
is "$(glist ports edge-1 web)" "" "the session is gone from list"
out=$(sync_ "$WORK/a.json" edge-1)
check "sync keeps it down: revoked ($out)" grep -q '^web: revoked (' <<<"$out"
tc --json sync --source "$WORK/a.json" --id edge-1 >"$WORK/s.json" 2>/dev/null
check "sync --json lists it under revoked" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["revoked"] == ["web"], d' "$WORK/s.json"
is "$(jfield web state)" revoked "still revoked after sync"
doc "$WORK/a.json" edge-1 web "$PA" timeout=1h
out=$(sync_ "$WORK/a.json" edge-1)
check "a changed spec brings it back ($out)" grep -q '^web: started' <<<"$out"
check "... up again" wait_for 20 state_is web up

# --- the same through watch: the device key reaches a watcher's tunnels too ------------
tc -q stop --all
"$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" watch --source "$WORK/a.json" --id edge-1 \
	>"$WORK/watch.out" 2>&1 &
WPID=$!
at_exit "kill $WPID"
check "watch: a document without a key comes up with the device key ($(jfield web last_error))" \
	wait_for 20 state_is web up
kill -TERM "$WPID"
wait "$WPID"
is "$?" 0 "watch: SIGTERM exits 0"

# --- permitlisten: a port the key is not allowed never comes up -----------------------
doc "$WORK/b.json" edge-1 web "$PB"
sync_ "$WORK/b.json" edge-1 >/dev/null
notup() { s=$(jfield web state); [ "$s" = retrying ] || [ "$s" = failed ]; }
check "edge-1 asking for edge-2's port is never up ($(jfield web state): $(jfield web last_error))" wait_for 15 notup
sleep 2
check "... still not up" notup
check "... and nothing listens on that port" bash -c "! ss -Htln 'sport = :$PB' | grep -q ."
tc -q stop --all

# --- --max-time on the server ends a longer tunnel: expired, kept down ------------------
S2=$WORK/state2
tc2() { "$TC_BIN" --state-dir "$S2" --settings "$SETTINGS" "$@"; }
at_exit "\"$TC_BIN\" --state-dir $S2 --settings $SETTINGS -q stop --all"
doc "$WORK/c.json" edge-2 long "$PB" key="$WORK/k2" timeout=1h
tc2 sync --source "$WORK/c.json" --id edge-2 >/dev/null 2>&1
st2() { tc2 status --json | python3 -c 'import json,sys; t=json.load(sys.stdin)["tunnels"]; print(t[0]["state"] if t else "")'; }
up2() { [ "$(st2)" = up ]; }
exp2() { [ "$(st2)" = expired ]; }
check "edge-2's tunnel (timeout 1h) comes up" wait_for 20 up2
check "the server's --max-time 5s makes it expired" wait_for 15 exp2
check "the server's port is closed" wait_for 5 bash -c "! ss -Htln 'sport = :$PB' | grep -q ."
out=$(tc2 sync --source "$WORK/c.json" --id edge-2 2>&1)
check "the next sync keeps it down ($out)" grep -q '^long: expired (' <<<"$out"
tc2 -q stop --all

# --- a certificate: admitted by the CA only; expiry and renewal --------------------------
ssh-keygen -q -t ed25519 -N '' -C edge-3 -f "$WORK/k3" </dev/null
echo "command=\"$GATE serve --device edge-3 --ports 0 --registry $REG\",restrict,port-forwarding,permitlisten=\"127.0.0.1:*\" edge-3-principal" \
	>>"$D/principals"
ssh-keygen -q -s "$W/ca" -I edge-3 -n edge-3-principal -V -1m:+25s "$WORK/k3.pub" || skip_all "cannot sign"
S3=$WORK/state3
tc3() { "$TC_BIN" --state-dir "$S3" --settings "$SETTINGS" "$@"; }
at_exit "\"$TC_BIN\" --state-dir $S3 --settings $SETTINGS -q stop --all"
doc "$WORK/d.json" edge-3 cert 0 key="$WORK/k3" cert="$WORK/k3-cert.pub"
tc3 sync --source "$WORK/d.json" --id edge-3 >/dev/null 2>&1
j3() { tc3 status --json | python3 -c 'import json,sys; t=json.load(sys.stdin)["tunnels"]; print(t[0][sys.argv[1]] if t else "")' "$1"; }
up3() { [ "$(j3 state)" = up ]; }
check "a device admitted only by a certificate comes up" wait_for 20 up3
aport3=$(j3 remote_port)
check "remote.port 0: status reports the port sshd allocated ($aport3)" test -n "$aport3" -a "$aport3" != 0
gport3() { [ "$(glist ports edge-3 cert)" = "$aport3" ]; }
check "... and list --json on the server shows the same port" wait_for 5 gport3
is "$(fetch_token "$aport3")" "$TOKEN" "... which carries traffic"
pid3=$(j3 pid)
cp "$WORK/k3-cert.pub" "$WORK/k3-old-cert.pub"
ssh-keygen -q -s "$W/ca" -I edge-3 -n edge-3-principal -V -1m:+1h "$WORK/k3.pub"
doc "$WORK/d2.json" edge-3 cert 0 key="$WORK/k3" cert="$WORK/k3-cert.pub"
out=$(tc3 sync --source "$WORK/d2.json" --id edge-3 2>&1)
check "a renewed certificate in the document: unchanged ($out)" grep -q '^cert: unchanged' <<<"$out"
is "$(j3 pid)" "$pid3" "... the supervisor is the same (no restart)"
is "$(cut -d' ' -f2 "$S3/cert/cert")" "$(cut -d' ' -f2 "$WORK/k3-cert.pub")" "... and the new certificate is in place"
# The session ends (serve killed); the reconnection uses the renewed certificate.
kill -9 "$(glist pid edge-3)" 2>/dev/null
sleep 3
check "after a reconnection with the renewed certificate: up again" wait_for 20 up3
# Now an expired certificate: the old one, in a new document.
tc3 -q stop --all
sleep 25	# the first certificate was valid for 25 s from its signing
doc "$WORK/d3.json" edge-3 cert 0 key="$WORK/k3" cert="$WORK/k3-old-cert.pub"
tc3 sync --source "$WORK/d3.json" --id edge-3 >/dev/null 2>&1
refused3() { s=$(j3 state); [ "$s" = failed ] || [ "$s" = retrying ]; }
check "an expired certificate is retrying or failed ($(j3 state))" wait_for 20 refused3
check "... with ssh's reason ($(j3 last_error))" bash -c 'grep -qi "permission denied\|certificate" <<<"$1"' _ "$(j3 last_error)"
out=$(tc3 sync --source "$WORK/d2.json" --id edge-3 2>&1)
check "the renewed certificate in the document restores it ($out)" wait_for 20 up3
tc3 -q stop --all

# --- an account without the gate: failed, saying so --------------------------------------
# The throwaway sshd's root account runs a shell, not the gate: its own
# client key, with no forced command.
cat "$D/client_key.pub" >>"$D/authorized_keys"
cat >"$WORK/e.json" <<EOF
{"version": 1, "devices": {"edge-1": {"tunnels": [
 {"name": "nogate", "server": {"host": "127.0.0.1", "port": $SPORT, "user": "root",
   "host_key": "$HK", "gate": true},
  "remote": {"port": 0}, "target": {"host": "127.0.0.1", "port": $TPORT},
  "private_key": "$(base64 -w0 "$D/client_key")"}]}}}
EOF
sync_ "$WORK/e.json" edge-1 >/dev/null
failed_nogate() { [ "$(jfield nogate state)" = failed ]; }
check "gate: true to an account without the gate is failed ($(jfield nogate state))" wait_for 20 failed_nogate
check "... and last_error says the account does not run tunnelctl-gate ($(jfield nogate last_error))" \
	bash -c 'grep -q "tunnelctl-gate" <<<"$1"' _ "$(jfield nogate last_error)"
tc -q stop --all

done_testing
