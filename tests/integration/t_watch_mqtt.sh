#!/bin/bash
# t_watch_mqtt.sh: `tunnelctl watch` and `sync` with an MQTT source, end to
# end. A real mosquitto broker, started from the test's own configuration,
# runs in the server namespace beside a real sshd (three_hosts: server
# 203.0.113.1, device 203.0.113.2, LAN 192.0.2.50 with the target service);
# the device runs tunnelctl in its own namespace, so its uplink can be cut.
# Plain MQTT with a password file, then TLS with client certificates from a
# CA made here with openssl, an ACL file that lets each device read only its
# own topic, and a dynamic-security broker that refuses other topics. The
# documents are published retained with mosquitto_pub -r. TAP output.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$TC_SRCDIR/tests/helpers/mosquitto.sh"
need_root
for c in autossh mosquitto mosquitto_pub mosquitto_passwd openssl curl; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
EX_FETCH=69
three_hosts twm
ID=edge-1
TOPIC=tunnelctl/$ID/config

# --- the target on the LAN, the broker in the server namespace ---------------
TOKEN=tok-$$-$RANDOM
mkdir -p "$WORK/www"
printf '%s\n' "$TOKEN" >"$WORK/www/token"
ip netns exec "$LAN" python3 -m http.server 80 --bind 192.0.2.50 --directory "$WORK/www" \
	>/dev/null 2>&1 &
at_exit "kill $!"
wait_port 192.0.2.50 80 5 "$LAN" || skip_all "the LAN target service did not start"

B=$WORK/broker
mkdir -p "$B"
MQTT_NS=$SRV MQTT_ADDR=203.0.113.1 MQTT_PORTS="1883 8883" mqtt_broker_setup "$B" ||
	{ echo "Bail out! cannot set up the broker (openssl, mosquitto_passwd)"; exit 1; }
at_exit "mqtt_broker_kill $B"
mqtt_broker_start "$B" || { echo "Bail out! mosquitto did not start: $(tail -3 "$B/broker.log")"; exit 1; }
printf 'pw-%s\n' "$ID" >"$WORK/$ID.pw"
chmod 600 "$WORK/$ID.pw"

# gendoc FILE [NAME:RPORT]...: a native document with these tunnels for ID.
gendoc() {
	python3 - "$KEY" "$HK" "$ID" "$@" <<'EOF'
import json, sys
keyf, hostkey, dev, out = sys.argv[1:5]
tunnels = [{"name": a.split(":")[0],
            "server": {"host": "203.0.113.1", "user": "root", "host_key": hostkey},
            "remote": {"port": int(a.split(":")[1])},
            "target": {"host": "192.0.2.50", "port": 80},
            "private_key": open(keyf).read()} for a in sys.argv[5:]]
json.dump({"version": 1, "devices": {dev: {"tunnels": tunnels}}}, open(out, "w"))
EOF
}
gendoc "$WORK/d1.json" web:8080
gendoc "$WORK/d2.json" web:8081
pub() { mqtt_pub "$B" "$TOPIC" -r "$@"; }
settings() { printf '%s\n' "$@" >"$SETTINGS"; }
PLAIN=("source = mqtt://203.0.113.1/tunnelctl/{id}/config" "id = $ID"
	"mqtt_username = $ID" "mqtt_password_file = $WORK/$ID.pw" "interval = 1h")
TLS=("source = mqtts://203.0.113.1/tunnelctl/{id}/config" "id = $ID" "interval = 1h"
	"mqtt_cafile = $B/ca.crt" "mqtt_certfile = $B/$ID.crt" "mqtt_keyfile = $B/$ID.key")

# On the server: the forward's port accepts, and reaches the LAN target.
fwd_up() { _port_open 127.0.0.1 "$1" "$SRV"; }
token() { insrv curl -s --max-time 3 "http://127.0.0.1:$1/token"; }
token_is() { [ "$(token "$1")" = "$TOKEN" ]; }
pid_of() { jfield "$1" pid; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

W_OUT=$WORK/watch.out
W_ERR=$WORK/watch.err
: >"$W_OUT"
: >"$W_ERR"
watch_start() { # in the device namespace; WPID is tunnelctl itself (ip execs it)
	ip netns exec "$DEV" "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" -v watch \
		>>"$W_OUT" 2>>"$W_ERR" &
	WPID=$!
	at_exit "kill -9 $WPID"
}
alive() { kill -0 "$WPID" 2>/dev/null; }
wfield() {
	tc --settings /dev/null status --json 2>/dev/null | python3 -c '
import json, sys
w = json.load(sys.stdin)["watch"]
v = None if w is None else w.get(sys.argv[1])
print("null" if v is None else v)' "$1"
}
subs() { grep -c 'watch: subscribed to' "$W_ERR"; }
subs_over() { [ "$(subs)" -gt "$1" ]; }
lines() { grep -c . "$W_OUT"; }
errs() { grep -c "$1" "$W_ERR"; }
errs_over() { [ "$(grep -c -- "$1" "$W_ERR")" -gt "$2" ]; }
# hup SETTINGS...: new settings, SIGHUP; 0 once subscribed with them (or,
# with HUP_NOWAIT=1, at once)
hup() {
	local n
	n=$(subs)
	settings "$@"
	kill -HUP "$WPID"
	[ -n "${HUP_NOWAIT:-}" ] || wait_for 15 subs_over "$n"
}

# --- sync: the retained message, once ------------------------------------------
settings "${PLAIN[@]}"
pub -f "$WORK/d1.json"
OUT=$(tc sync 2>&1)
RC=$?
is "$RC" 0 "sync with an mqtt:// source exits 0"
check "sync: 'web: started' ($OUT)" grep -q '^web: started' <<<"$OUT"
check "sync: the forward accepts on the server" wait_for 15 fwd_up 8080
is "$(token 8080)" "$TOKEN" "sync: the tunnel reaches the LAN target"
OUT=$(tc sync 2>&1)
check "sync again: 'web: unchanged' ($OUT)" grep -q '^web: unchanged' <<<"$OUT"
# An empty retained publication deletes the retained message: nothing left.
pub -n
P=$(pid_of web)
t0=$(date +%s%N)
OUT=$(tc sync 2>&1)
RC=$?
ms=$(ms_since "$t0")
is "$RC" "$EX_FETCH" "sync with nothing retained: exit 69"
check "after about 10 s ($ms ms)" test "$ms" -ge 9500 -a "$ms" -lt 14000
check "saying so ($OUT)" grep -q 'no retained message arrived within 10 s' <<<"$OUT"
is "$(pid_of web)" "$P" "and nothing changed: web still runs"
tc -q stop web
pub -f "$WORK/d1.json"

# --- watch: a retained document brings the tunnel up ---------------------------
watch_start
check "watch: subscribed" wait_for 15 subs_over 0
check "the retained document brings web up" wait_for 15 fwd_up 8080
is "$(token 8080)" "$TOKEN" "web reaches the LAN target"
is "$(cat "$W_OUT")" "web: started (not running)" "stdout: sync's line for the started tunnel"
is "$(wfield source)" "mqtt://203.0.113.1/tunnelctl/{id}/config (id $ID)" "status --json: watch.source"
is "$(wfield last_error)" null "status --json: no error"
check "status --json: last_change_at set" test "$(wfield last_change_at)" != null
is "$(jfield web origin)" sync "origin sync"

# --- a changed document restarts it -------------------------------------------------
P=$(pid_of web)
t0=$(date +%s%N)
pub -f "$WORK/d2.json"
check "a changed document: web's forward on the new port" wait_for 15 fwd_up 8081
diag "publish -> forward accepts: $(ms_since "$t0") ms"
check "the old port is closed" wait_for 10 sh -c "! ip netns exec $SRV timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>/dev/null"
is "$(token 8081)" "$TOKEN" "the new port reaches the target"
check "stdout: 'web: restarted'" grep -q '^web: restarted' "$W_OUT"
check "a new supervisor" test "$(pid_of web)" != "$P"
is "$(supervisors web)" 1 "one supervisor for web"

# --- an invalid one changes nothing and is logged ----------------------------------
P=$(pid_of web)
n=$(lines)
pub -m "{\"version\": 1, \"devices\": {\"$ID\": {\"tunnels\": [{\"name\": \"x\"}]}}}"
check "invalid: logged, naming the field" \
	wait_for 10 grep -qE '^tunnelctl: watch: .*devices.edge-1.tunnels\[0\]' "$W_ERR"
check "invalid: watch.last_error names it ($(wfield last_error))" grep -q 'devices.edge-1.tunnels\[0\]' <<<"$(wfield last_error)"
is "$(pid_of web)" "$P" "invalid: web untouched"
is "$(lines)" "$n" "invalid: nothing on stdout"
check "invalid: the forward still works" token_is 8081

# The interval's round (SIGUSR1 here) converges on the last valid document:
# a tunnel whose supervisor died comes back, as cron's next sync would.
kill -9 "$P"
check "web's supervisor killed: its forward goes" wait_for 10 sh -c "! ip netns exec $SRV timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081' 2>/dev/null"
kill -USR1 "$WPID"
check "SIGUSR1: the last valid document again: web started" wait_for 15 fwd_up 8081
is "$(jfield web remote_port)" 8081 "from the last valid document (not the invalid one)"

# --- quiet: no interval rounds while nothing can have changed -------------------
# With an MQTT source a new document comes as a message and anything else a
# converge would act on as a notice (lib/quiet.c), so while quiet the
# interval's rounds are not run; a notice brings the next one back an
# interval away. At 5 s: no round in 8 quiet seconds, and a killed
# supervisor is restarted within one interval, with no signal sent.
pub -f "$WORK/d2.json"
hup "${PLAIN[@]/interval = 1h/interval = 5s}"
check "interval 5 s: the retained document again, web as it was" wait_for 15 fwd_up 8081
sleep 3
r0=$(sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$STATE/watch.json")
sleep 8
is "$(sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$STATE/watch.json")" "$r0" "quiet: no interval round in 8 s at interval 5 s"
P=$(pid_of web)
back() { [ "$(pid_of web)" != "$P" ] && fwd_up 8081; }
t0=$(date +%s%N)
kill -9 "$P"
check "quiet: a killed supervisor wakes it; web is back within one interval, unasked" wait_for 15 back
ms=$(ms_since "$t0")
check "... in $ms ms (5 s + 10 % + the ssh time)" test "$ms" -le 8500
hup "${PLAIN[@]}"

# --- an empty payload stops it -----------------------------------------------------
pub -n
check "an empty payload: web stopped" wait_for 10 test ! -e "$STATE/web"
check "stdout: 'web: stopped (no entry for device ...)'" \
	grep -q "^web: stopped (no entry for device '$ID' in the document)" "$W_OUT"
check "its forward is gone" wait_for 10 sh -c "! ip netns exec $SRV timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081' 2>/dev/null"

# --- the broker killed and restarted: reconnect, nothing lost -------------------------
pub -f "$WORK/d1.json"
check "web up again on 8080" wait_for 15 fwd_up 8080
P=$(pid_of web)
n=$(subs)
mqtt_broker_kill "$B"
check "the broker killed: the loss is logged with the next attempt" \
	wait_for 10 grep -qE 'watch: mqtt://203.0.113.1:1883/tunnelctl/edge-1/config: .*; retrying in [0-9.]+ s' "$W_ERR"
check "status --json: watch.last_error says so ($(wfield last_error))" test "$(wfield last_error)" != null
sleep 1
mqtt_broker_start "$B" || diag "broker restart: $(tail -3 "$B/broker.out")"
t0=$(date +%s%N)
check "the broker back: subscribed again, within the backoff" wait_for 15 subs_over "$n"
diag "resubscribed $(ms_since "$t0") ms after the broker came back"
# Down until the backoff has grown; back; SIGUSR1 connects at once.
n=$(subs)
e0=$(wc -l <"$W_ERR")
mqtt_broker_kill "$B"
# long_wait: the last attempt since line e0 failed with the next one >= 4 s away
long_wait() {
	tail -n +"$((e0 + 1))" "$W_ERR" | grep 'retrying in' | tail -1 |
		grep -qE 'retrying in ([4-9]|[1-9][0-9])\.[0-9] s'
}
last_wait() { # the last backoff since line e0, in ms
	tail -n +"$((e0 + 1))" "$W_ERR" | grep 'retrying in' | tail -1 |
		sed 's/.*retrying in \([0-9]*\)\.\([0-9]\) s.*/\1\200/'
}
check "the broker down again: attempts fail, the backoff grows to 4 s or more" wait_for 45 long_wait
wait_ms=$(last_wait)
mqtt_broker_start "$B" || diag "broker restart: $(tail -3 "$B/broker.out")"
kill -USR1 "$WPID"
t0=$(date +%s%N)
check "SIGUSR1: subscribed again" wait_for 15 subs_over "$n"
ms=$(ms_since "$t0")
check "at once ($ms ms), not after the backoff ($wait_ms ms)" test "$ms" -le 2000 -a "$ms" -lt "$wait_ms"
is "$(wfield last_error)" null "the error is over"
is "$(pid_of web)" "$P" "web kept its supervisor"
check "web still reaches the target" token_is 8080
# persistence is off in the test broker: the retained message is gone
pub -f "$WORK/d2.json"
check "a document after the reconnection is applied: web on 8081" wait_for 15 fwd_up 8081

# --- the device's link cut and restored: reconnect at link-up -------------------------
# An HTTP watcher too, in a state dir of its own, polling the server every hour:
# the link coming back makes it poll at once.
HROOT=$WORK/hwww
mkdir -p "$HROOT"
printf '{"version": 1, "devices": {"other": {"tunnels": []}}}\n' >"$HROOT/cfg.json"
HLOG=$WORK/httpd.log
ip netns exec "$SRV" python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$HROOT" --bind 203.0.113.1 \
	--portfile "$WORK/httpd.port" --logfile "$HLOG" >/dev/null 2>&1 &
at_exit "kill $!"
wait_for 5 test -s "$WORK/httpd.port"
HSTATE=$WORK/hstate
ip netns exec "$DEV" "$TC_BIN" --state-dir "$HSTATE" --settings /dev/null watch --interval 1h \
	--source "http://203.0.113.1:$(cat "$WORK/httpd.port")/cfg.json" --id h-1 >/dev/null 2>"$WORK/hwatch.err" &
HWPID=$!
at_exit "kill -9 $HWPID"
wait_for 10 test -s "$HLOG"

# A short keepalive, so the loss is noticed in seconds (2 x 5 s).
check "SIGHUP: mqtt_keepalive = 5, subscribed again" hup "${PLAIN[@]}" "mqtt_keepalive = 5"
P=$(pid_of web)
n=$(subs)
e0=$(wc -l <"$W_ERR")
h0=$(wc -l <"$HLOG")
ip -n "$DEV" link set vds down
check "link down: the loss noticed, attempts fail, the backoff grows to 4 s or more" wait_for 45 long_wait
wait_ms=$(last_wait)
diag "last failure: $(tail -n +"$((e0 + 1))" "$W_ERR" | grep 'retrying in' | tail -1)"
ip -n "$DEV" link set vds up
t_up=$(date +%s%N)
check "link up: subscribed again" wait_for 15 subs_over "$n"
up_ms=$(ms_since "$t_up")
if [ "$up_ms" -le 3000 ] && [ "$up_ms" -lt "$wait_ms" ]; then
	ok "reconnected at link-up: $up_ms ms after it, the backoff's attempt was $wait_ms ms away"
else
	not_ok "reconnected at link-up, not after the backoff ($up_ms ms; backoff $wait_ms ms)"
	diag "$(tail -5 "$W_ERR")"
fi
check "the HTTP watcher polled at link-up too (interval 1 h)" wait_for 5 sh -c "[ \$(wc -l <$HLOG) -gt $h0 ]"
is "$(pid_of web)" "$P" "web kept its supervisor through the cut"
check "web's forward works again" wait_for 30 token_is 8081
kill -TERM "$HWPID"
wait "$HWPID"
is "$?" 0 "the HTTP watcher ends with 0"

# --- TLS: client certificates, each device its own topic -----------------------------
P=$(pid_of web)
n=$(lines)
check "SIGHUP: mqtts://, subscribed again" hup "${TLS[@]}"
check "mqtts://: subscribed with the device's client certificate" \
	grep -q 'watch: subscribed to mqtts://203.0.113.1/tunnelctl/{id}/config (id edge-1)' "$W_ERR"
sleep 1
is "$(lines):$(pid_of web)" "$n:$P" "the same retained document over TLS: nothing to do"
mqtts_pub "$B" "$TOPIC" -r -f "$WORK/d1.json"
check "a document published over TLS: web restarted on 8080" wait_for 15 fwd_up 8080
# The ACL file: another device's topic delivers nothing to this one.
check "SIGHUP: edge-2's topic (mosquitto's acl_file grants the subscription)" hup "${TLS[@]/\{id\}/edge-2}"
P=$(pid_of web)
mqtts_pub "$B" tunnelctl/edge-2/config -r -f "$WORK/d2.json"
sleep 2
is "$(jfield web remote_port):$(pid_of web)" "8080:$P" "ACL: a document on edge-2's topic never reaches edge-1"
mqtts_pub "$B" tunnelctl/edge-2/config -r -n

# The wrong client certificate (another CA's): said, retried, fixed by SIGHUP.
ROGUE=("source = mqtts://203.0.113.1/tunnelctl/{id}/config" "id = $ID" "interval = 1h"
	"mqtt_cafile = $B/ca.crt" "mqtt_certfile = $B/rogue-$ID.crt" "mqtt_keyfile = $B/rogue-$ID.key")
c0=$(errs 'client certificate')
HUP_NOWAIT=1 hup "${ROGUE[@]}"
check "a wrong client certificate: a clear error, retried (two attempts logged)" \
	wait_for 20 errs_over 'TLS: .*refused the client certificate.*; retrying in' $((c0 + 1))
check "watch.last_error says so ($(wfield last_error))" grep -q 'client certificate' <<<"$(wfield last_error)"
check "the watcher goes on" alive
is "$(pid_of web)" "$P" "web untouched"
check "SIGHUP with the right certificate: subscribed" hup "${TLS[@]}"
is "$(wfield last_error)" null "and the error is over"
check "web still on 8080" token_is 8080

# --- a topic the broker refuses (dynamic security): a clear error, the loop goes on ---
DS=$WORK/dynsec
mkdir -p "$DS"
cp "$B"/*.crt "$B"/*.key "$DS/"
if MQTT_NS=$SRV MQTT_ADDR=203.0.113.1 MQTT_PORTS="1884 8884" mqtt_broker_setup_dynsec "$DS"; then
	at_exit "mqtt_broker_kill $DS"
	mqtt_broker_start "$DS"
	mqtts_pub "$DS" "$TOPIC" -r -f "$WORK/d2.json"
	DYN=("source = mqtts://203.0.113.1:8884/tunnelctl/{id}/config" "id = $ID" "interval = 1h"
		"mqtt_cafile = $DS/ca.crt" "mqtt_certfile = $DS/$ID.crt" "mqtt_keyfile = $DS/$ID.key")
	r0=$(errs 'refused by the broker: Not authorized')
	HUP_NOWAIT=1 hup "${DYN[@]/\{id\}/edge-2}"
	check "a topic the ACL denies: 'subscription ... refused by the broker: Not authorized', retried" \
		wait_for 20 errs_over 'subscription to tunnelctl/edge-2/config refused by the broker: Not authorized.*; retrying in' $((r0 + 1))
	check "watch.last_error says so ($(wfield last_error))" \
		grep -q 'subscription to tunnelctl/edge-2/config refused by the broker: Not authorized' <<<"$(wfield last_error)"
	check "the watcher goes on" alive
	is "$(pid_of web)" "$P" "web untouched"
	check "SIGHUP with its own topic: subscribed" hup "${DYN[@]}"
	check "SIGHUP with its own topic: the retained document, web restarted on 8081" wait_for 15 fwd_up 8081
	is "$(wfield last_error)" null "no error"
	mqtt_broker_stop "$DS"
else
	skip "a topic the ACL denies (no mosquitto_dynamic_security.so)"
fi

# --- SIGTERM: exit 0, the tunnel still up ----------------------------------------------
kill -TERM "$WPID"
wait "$WPID"
is "$?" 0 "SIGTERM: exit 0"
check "web still up" sh -c "ip netns exec $DEV '$TC_BIN' --state-dir '$STATE' --settings /dev/null status web >/dev/null"
check "its forward still works" wait_for 10 sh -c "ip netns exec $SRV timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081' 2>/dev/null || ip netns exec $SRV timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>/dev/null"
check "watch.json removed" test ! -e "$STATE/watch.json"

done_testing
