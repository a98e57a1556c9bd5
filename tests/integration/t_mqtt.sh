#!/bin/bash
# t_mqtt.sh: lib/mqtt.c against a real mosquitto broker on 127.0.0.1, through
# tests/helpers/mqttctl: the one-shot get of sync (retained document, the 10 s
# wait, empty payload, size cap, authentication, TLS, a refused subscription),
# the long-running client of watch (changes, broker killed and restarted,
# reconnect-now against a long backoff), flat descriptors and memory over
# 200 messages and 20 reconnections, CLOEXEC, and a valgrind run. TAP output.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$TC_SRCDIR/tests/helpers/mosquitto.sh"
for c in mosquitto mosquitto_pub mosquitto_passwd openssl; do
	command -v "$c" >/dev/null || skip_all "$c not installed (apt-get install mosquitto mosquitto-clients openssl)"
done
MQTTCTL=$TC_BUILDDIR/tests/helpers/mqttctl
[ -x "$MQTTCTL" ] || { echo "Bail out! $MQTTCTL not built (make check builds it)"; exit 1; }
EX_USAGE=2 EX_INVALID=65 EX_FETCH=69

WORK=$(mktemp -d /tmp/t_mqtt.XXXXXX)
chmod 700 "$WORK"
at_exit "rm -rf $WORK"
B=$WORK/broker
mkdir -p "$B"
mqtt_broker_setup "$B" || { echo "Bail out! cannot set up the broker (openssl, mosquitto_passwd)"; exit 1; }
at_exit "mqtt_broker_kill $B"
mqtt_broker_start "$B" || { echo "Bail out! mosquitto did not start: $(tail -5 "$B/broker.log")"; exit 1; }
PLAIN=mqtt://127.0.0.1:$MQTT_PORT/tunnelctl/{id}/config
TLS=mqtts://127.0.0.1:$MQTTS_PORT/tunnelctl/{id}/config
for u in edge-1 edge-2; do printf 'pw-%s\n' "$u" >"$WORK/$u.pw"; done
chmod 600 "$WORK"/*.pw
AUTH1=(--username edge-1 --password-file "$WORK/edge-1.pw")
CERT1=(--cafile "$B/ca.crt" --certfile "$B/edge-1.crt" --keyfile "$B/edge-1.key")

# A dummy key (base64 of a PEM frame): the document parser checks only its shape.
KEY=LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KQUFBQVNFQ1JFVEtFWUJZVEVTCi0tLS0tRU5EIE9QRU5TU0ggUFJJVkFURSBLRVktLS0tLQo=
doc() { # doc NAME PORT: a native document with one tunnel for edge-1
	printf '{"version": 1, "devices": {"edge-1": {"tunnels": [{"name": "%s",
  "server": {"host": "203.0.113.10", "user": "tunnel"}, "remote": {"port": %s},
  "target": {"host": "192.0.2.50", "port": 443}, "private_key": "%s"}]}}}\n' "$1" "$2" "$KEY"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
doc web 8080 >"$WORK/doc1.json"
doc web 8081 >"$WORK/doc2.json"

# run NAME ARGS...: mqttctl ARGS; sets rc, ms; output in $WORK/NAME.{out,err}
run() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	"$MQTTCTL" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}
out() { cat "$WORK/$1.out"; }
err() { cat "$WORK/$1.err"; }
field() { sed -n "s/^$2=//p" "$WORK/$1.out"; }
explain() { diag "rc=$rc ms=$ms out: $(out "$1" | tr '\n' ' ') err: $(err "$1")"; }
# expect NAME DESC CONDITION...: one TAP line; the output on failure
expect() {
	local name=$1 desc=$2
	shift 2
	if "$@"; then ok "$desc"; else not_ok "$desc"; explain "$name"; fi
}

# --- one-shot (sync) -----------------------------------------------------------

mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/doc1.json"
run get1 get "$PLAIN" --id edge-1 "${AUTH1[@]}"
expect get1 "one-shot: the retained document, byte for byte" \
	test $rc = 0 -a "$(field get1 sha256)" = "$(sha "$WORK/doc1.json")" \
	-a "$(field get1 len)" = "$(stat -c %s "$WORK/doc1.json")"
run load1 load "$PLAIN" --id edge-1 "${AUTH1[@]}"
expect load1 "tc_source_load routes mqtt:// to it and parses: this device, one tunnel" \
	test $rc = 0 -a "$(field load1 has_device)" = 1 -a "$(field load1 n)" = 1

run noret get "$PLAIN" --id edge-2 --username edge-2 --password-file "$WORK/edge-2.pw"
expect noret "nothing retained: exit 69 after the default 10 s, saying no retained message arrived" \
	test $rc = $EX_FETCH -a $ms -ge 9500 -a $ms -lt 13000 -a \
	-n "$(grep 'no retained message arrived within 10 s' "$WORK/noret.err")"

# An empty retained publication clears the retained message (MQTT), so an
# empty payload reaches a one-shot reader only as a live message.
( sleep 1; mqtt_pub "$B" tunnelctl/edge-2/config -n ) &
pubpid=$!
run empty load "$PLAIN" --id edge-2 --username edge-2 --password-file "$WORK/edge-2.pw"
wait "$pubpid"
expect empty "an empty payload: a valid document without this device (sync stops its tunnels)" \
	test $rc = 0 -a "$(field empty has_device)" = 0 -a "$(field empty n)" = 0

printf '{"version": 1, "devices": {"edge-2": {"tunnels": [{"name": "x"}]}}}' >"$WORK/bad.json"
mqtt_pub "$B" tunnelctl/edge-2/config -r -f "$WORK/bad.json"
run invalid load "$PLAIN" --id edge-2 --username edge-2 --password-file "$WORK/edge-2.pw"
expect invalid "an invalid document: exit 65 naming the field, as an HTTP body" \
	test $rc = $EX_INVALID -a -n "$(grep 'devices.edge-2.tunnels\[0\]' "$WORK/invalid.err")"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
mqtt_pub "$B" tunnelctl/edge-2/config -r -f "$WORK/big.json"
run big get "$PLAIN" --id edge-2 --username edge-2 --password-file "$WORK/edge-2.pw"
expect big "a payload of 1 MiB + 1 byte: refused, exit 69, over the size cap" \
	test $rc = $EX_FETCH -a -n "$(grep 'over the size cap (1048576 bytes)' "$WORK/big.err")"
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
mqtt_pub "$B" tunnelctl/edge-2/config -r -f "$WORK/huge.json"
run huge get "$PLAIN" --id edge-2 --username edge-2 --password-file "$WORK/edge-2.pw"
expect huge "3 MiB: over the MQTT 5 maximum packet size, the broker never sends it" \
	test $rc = $EX_FETCH -a -n "$(grep 'Dropping too large outgoing PUBLISH for tunnelctl-edge-2' "$B/broker.log")"
mqtt_pub "$B" tunnelctl/edge-2/config -r -n

printf 'not-the-password\n' >"$WORK/wrong.pw"
run wrongpw get "$PLAIN" --id edge-1 --username edge-1 --password-file "$WORK/wrong.pw"
expect wrongpw "a wrong password: exit 69, says authentication failed" \
	test $rc = $EX_FETCH -a -n "$(grep 'authentication failed' "$WORK/wrongpw.err")"
check "the password appears in no message" sh -c "! grep -q -e not-the-password -e pw-edge $WORK/*.err"
run nopw get "$PLAIN" --id edge-1 --username edge-1 --password-file "$WORK/missing.pw"
expect nopw "a missing password file: exit 69 naming mqtt_password_file and the file" \
	test $rc = $EX_FETCH -a -n "$(grep "mqtt_password_file $WORK/missing.pw: No such file" "$WORK/nopw.err")"
DEAD=$(free_port)
run refused get "mqtt://127.0.0.1:$DEAD/t" --id edge-1
expect refused "nothing listening: exit 69 at once, connection refused" \
	test $rc = $EX_FETCH -a $ms -lt 2000 -a -n "$(grep 'connection refused' "$WORK/refused.err")"
run badurl get "mqtt://127.0.0.1:0/t" --id edge-1
expect badurl "a bad URL: usage error (exit 2)" \
	test $rc = $EX_USAGE -a -n "$(grep 'bad port' "$WORK/badurl.err")"

# --- TLS ------------------------------------------------------------------------

run tls get "$TLS" --id edge-1 "${CERT1[@]}"
expect tls "TLS with the device's client certificate: the retained document" \
	test $rc = 0 -a "$(field tls sha256)" = "$(sha "$WORK/doc1.json")"
run rogue get "$TLS" --id edge-1 --cafile "$B/ca.crt" --certfile "$B/rogue-edge-1.crt" \
	--keyfile "$B/rogue-edge-1.key"
# The alert comes before or after libmosquitto writes CONNECT (timing): with
# OpenSSL's reason, or without it.
expect rogue "a client certificate of another CA: exit 69, the broker refused the client certificate" \
	test $rc = $EX_FETCH -a -n "$(grep -e 'TLS: the broker refused the client certificate' \
	-e 'TLS: the broker ended the handshake.*refused the client certificate' "$WORK/rogue.err")"
run nocert get "$TLS" --id edge-1 --cafile "$B/ca.crt"
expect nocert "no client certificate: exit 69, the broker requires one" \
	test $rc = $EX_FETCH -a -n "$(grep -e 'TLS: the broker requires a client certificate' \
	-e 'TLS: the broker ended the handshake.*require a client certificate' "$WORK/nocert.err")"
run wrongca get "$TLS" --id edge-1 --cafile "$B/rogue-ca.crt" --certfile "$B/edge-1.crt" \
	--keyfile "$B/edge-1.key"
expect wrongca "a broker certificate the CA file does not trust: exit 69, not trusted" \
	test $rc = $EX_FETCH -a -n "$(grep "TLS: the broker's certificate is not trusted" "$WORK/wrongca.err")"
run wrongkey get "$TLS" --id edge-1 --cafile "$B/ca.crt" --certfile "$B/edge-1.crt" \
	--keyfile "$B/edge-2.key"
expect wrongkey "a key that is not the certificate's: exit 69 naming the key file" \
	test $rc = $EX_FETCH -a -n "$(grep "TLS: .*edge-2.key" "$WORK/wrongkey.err")"

# The ACL refuses the subscription itself (SUBACK 0x87) with the dynamic
# security plugin; mosquitto's acl_file grants every subscription.
DS=$WORK/dynsec
mkdir -p "$DS"
cp "$B"/*.crt "$B"/*.key "$DS/"
if mqtt_broker_setup_dynsec "$DS"; then
	at_exit "mqtt_broker_kill $DS"
	mqtt_broker_start "$DS"
	DTLS=mqtts://127.0.0.1:$MQTTS_PORT
	DCERT1=(--cafile "$DS/ca.crt" --certfile "$DS/edge-1.crt" --keyfile "$DS/edge-1.key")
	mqtts_pub "$DS" tunnelctl/edge-1/config -r -f "$WORK/doc1.json"
	run dsown get "$DTLS/tunnelctl/{id}/config" --id edge-1 "${DCERT1[@]}"
	expect dsown "dynsec broker: the device's own topic works" \
		test $rc = 0 -a "$(field dsown sha256)" = "$(sha "$WORK/doc1.json")"
	run dsother get "$DTLS/tunnelctl/edge-2/config" --id edge-1 "${DCERT1[@]}"
	expect dsother "a topic the ACL denies: exit 69 at once, subscription refused, not a silent wait" \
		test $rc = $EX_FETCH -a $ms -lt 3000 -a \
		-n "$(grep 'subscription to tunnelctl/edge-2/config refused by the broker: Not authorized' "$WORK/dsother.err")"
	mqtt_broker_stop "$DS"
	read -r MQTT_PORT MQTTS_PORT <"$B/ports"
else
	skip "dynsec broker: the device's own topic works (no mosquitto_dynamic_security.so)"
	skip "a topic the ACL denies: subscription refused (no mosquitto_dynamic_security.so)"
fi

# --- long-running (watch) ----------------------------------------------------------

W=$WORK/watch.out
watch_start() { # watch_start OUT ARGS...: mqttctl watch in the background, WPID
	local o=$1
	shift
	"$MQTTCTL" watch "$@" >"$o" 2>&1 &
	WPID=$!
	at_exit "kill -9 $WPID"
}
msgs() { grep -c " message " "${2:-$W}"; }
has_msg() { grep -q " message len=[0-9]* sha256=$1" "${2:-$W}"; }
# after_line PATTERN: the lines after the last one matching PATTERN
after_line() { awk -v p="$1" '$0 ~ p { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }' "$W"; }
stamp() { grep "$1" "$W" | tail -1 | cut -d' ' -f1; }

watch_start "$W" "$TLS" --id edge-1 "${CERT1[@]}" --timeout 600
check "watch: subscribed, the retained document first" wait_for 10 has_msg "$(sha "$WORK/doc1.json")"
mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/doc2.json"
check "watch: a changed retained document is delivered" wait_for 10 has_msg "$(sha "$WORK/doc2.json")"
mqtt_pub "$B" tunnelctl/edge-1/config -r -n
check "watch: clearing the retained message arrives as an empty payload" \
	wait_for 10 grep -q " message len=0 " "$W"
# Its sockets and signalfd (the test's own inherited descriptors are not its).
check "watch: all its sockets are CLOEXEC" sh -c "
	for f in /proc/$WPID/fdinfo/*; do
		fd=\${f##*/}; [ \$fd -gt 2 ] || continue
		case \$(readlink /proc/$WPID/fd/\$fd) in socket:*|anon_inode:*) ;; *) continue ;; esac
		flags=\$(sed -n 's/^flags:[[:space:]]*//p' \$f)
		[ \$(( 0\$flags & 02000000 )) -ne 0 ] || { echo \"fd \$fd not CLOEXEC\" >&2; exit 1; }
	done"

# Killed (a crash: no DISCONNECT), restarted on the same port. Without
# persistence the broker forgot the retained message: publish it again.
mqtt_broker_kill "$B"
check "watch: the loss is noticed and said" wait_for 10 grep -q "state waiting .*closed the connection" "$W"
sleep 1
mqtt_broker_start "$B"
up=$(date +%s%N)
mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/doc1.json"
n0=$(msgs)
check "watch: reconnects within its backoff and gets the retained message again" \
	wait_for 10 sh -c "[ \$(grep -c ' message ' $W) -gt $n0 ]"
diag "reconnected $((($(date +%s%N) - up) / 1000000)) ms after the broker came back"
check "watch: the message after the reconnection is the retained document" has_msg "$(sha "$WORK/doc1.json")"

# Down long enough that the backoff grows past 8 s; then back, and
# reconnect-now (the watcher's rtnetlink event) must not wait for it.
mqtt_broker_kill "$B"
long_wait() { grep "state waiting" "$W" | tail -1 | grep -q "retry_in_ms=\([89][0-9]\{3\}\|[1-9][0-9]\{4\}\)"; }
check "watch: broker down, the backoff grows past 8 s" wait_for 40 long_wait
due=$(grep "state waiting" "$W" | tail -1 | sed 's/.*retry_in_ms=\([0-9]*\).*/\1/')
due_at=$(($(stamp "state waiting") + due))
mqtt_broker_start "$B"
mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/doc2.json"
n0=$(msgs)
kill -USR1 "$WPID"
wait_for 5 sh -c "[ \$(grep -c ' message ' $W) -gt $n0 ]"
t_sig=$(stamp "reconnect-now")
t_sub=$(stamp "state subscribed")
if [ -n "$t_sig" ] && [ -n "$t_sub" ] && [ "$t_sub" -ge "$t_sig" ] &&
	[ $((t_sub - t_sig)) -le 1000 ] && [ "$t_sub" -lt "$due_at" ]; then
	ok "reconnect-now: subscribed $((t_sub - t_sig)) ms after it, $((due_at - t_sub)) ms before the backoff's attempt"
else
	not_ok "reconnect-now skips the backoff"
	diag "signal at ${t_sig:-?} ms, subscribed at ${t_sub:-?} ms, backoff due at $due_at ms"
	diag "$(tail -8 "$W")"
fi

# --- flat descriptors and memory ----------------------------------------------------

fds() { ls "/proc/$WPID/fd" | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$WPID/status"; }
# pubn FROM TO: documents FROM..TO (distinct), each awaited
pubn() {
	local i
	for ((i = $1; i <= $2; i++)); do
		doc "n$i" $((10000 + i)) >"$WORK/n.json"
		mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/n.json"
	done
	wait_for 20 has_msg "$(sha "$WORK/n.json")"
}
pubn 1 10
fd10=$(fds)
rss10=$(rss)
pubn 11 200
fd200=$(fds)
rss200=$(rss)
diag "after 10 messages: $fd10 fds, VmRSS $rss10 kB; after 200: $fd200 fds, VmRSS $rss200 kB"
is "$fd200" "$fd10" "200 messages: as many descriptors as after the first 10"
rss_flat "200 messages: VmRSS within 64 kB of the value after the first 10" "$rss10" "$rss200"
# reconnect N: the broker restarted N times, each time reconnect-now
reconnect() {
	local i s
	for ((i = 0; i < $1; i++)); do
		s=$(grep -c "state subscribed" "$W")
		mqtt_broker_kill "$B"
		wait_for 10 sh -c "tail -3 $W | grep -q 'state waiting'"
		mqtt_broker_start "$B"
		kill -USR1 "$WPID"
		wait_for 10 sh -c "[ \$(grep -c 'state subscribed' $W) -gt $s ]" || return 1
	done
}
reconnect 3
fdr3=$(fds)
rssr3=$(rss)
check "20 more reconnections all succeed" reconnect 20
fdr23=$(fds)
rssr23=$(rss)
diag "after 3 reconnections: $fdr3 fds, VmRSS $rssr3 kB; after 23: $fdr23 fds, VmRSS $rssr23 kB"
is "$fdr23" "$fdr3" "reconnections leak no descriptor"
rss_flat "reconnections: VmRSS within 64 kB" "$rssr3" "$rssr23"
kill -TERM "$WPID"
wait "$WPID"
is "$?" 0 "watch: SIGTERM ends it cleanly"

# --- keepalive: a ping when one is due, and no wake-up in between ---------------------
# libmosquitto pings once nothing was heard for a keepalive; the client wakes
# then and only then: its PINGRESP waits in the socket below SO_RCVLOWAT and
# that next wake-up reads it (not two wake-ups a period, nor four checks).
# A document published while a PINGRESP waits must still wake it at once.
# keepalive_case NAME URL ARGS...: over TLS and in plain text.
keepalive_case() {
	local name=$1 url=$2 port w0 w1 l0 pings n q ms kw=$WORK/ka-$1.out doc
	shift 2
	port=${url#*//127.0.0.1:}
	port=${port%%/*}
	l0=$(wc -l <"$B/broker.log")
	"$MQTTCTL" watch "$url" --id edge-1 "$@" --keepalive 5 --timeout 120 >"$kw" 2>&1 &
	KPID=$!
	at_exit "kill -9 $KPID"
	wakes() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$KPID/status"; }
	# recvq: bytes unread in the client's own connection (ss's Recv-Q)
	recvq() { ss -Htnp state established "( dport = :$port )" | awk -v p="pid=$KPID," 'index($0, p) { print $1; exit }'; }
	# await_unread TENTHS: q, the bytes unread once some are (a PINGRESP
	# after a ping), or 0 after TENTHS tenths of a second
	await_unread() {
		q=0
		for _ in $(seq "$1"); do
			q=$(recvq)
			[ "${q:-0}" -gt 0 ] && break
			sleep 0.1
		done
	}
	# publish_timed FILE: publish FILE, ms until the client has it (10 s at most)
	publish_timed() {
		local t0
		t0=$(date +%s%N)
		mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$1"
		wait_for 10 has_msg "$(sha "$1")" "$kw"
		ms=$((($(date +%s%N) - t0) / 1000000))
	}
	if wait_for 10 grep -q "state subscribed" "$kw"; then
		sleep 1
		w0=$(wakes)
		sleep 20
		w1=$(wakes)
		pings=$(tail -n +"$((l0 + 1))" "$B/broker.log" | sed -n 's/^\([0-9]*\): Received PINGREQ from tunnelctl-edge-1$/\1/p')
		n=$(wc -w <<<"$pings")
		check "keepalive 5 s, $name: pinged ~every 5 s while idle ($n pings in 21 s)" [ "$n" -ge 3 -a "$n" -le 5 ]
		check "keepalive 5 s, $name: never more than 6 s between two pings ($(echo $pings))" \
			awk 'NR > 1 && $1 - p > 6 { bad = 1 } { p = $1 } END { exit bad }' <<<"$(tr ' ' '\n' <<<"$pings")"
		check "keepalive 5 s, $name: $((w1 - w0)) wake-ups in 20 s idle (one a period: the ping's; not its answer's too)" \
			[ "$((w1 - w0))" -le 6 ]
		# Right after a ping its answer waits unread until the next one.
		await_unread 70
		check "keepalive 5 s, $name: the PINGRESP waits in the socket ($q bytes unread), no wake-up for it" \
			[ "${q:-0}" -gt 0 ]
		doc=doc1
		has_msg "$(sha "$WORK/doc2.json")" "$kw" || doc=doc2
		publish_timed "$WORK/$doc.json"
		check "keepalive 5 s, $name: a document published while it waits arrives at once (${ms} ms; the next ping was ~4 s away)" \
			[ "$ms" -lt 2000 ]
		# A large one (many segments and TLS records) after the next ping:
		# its first part wakes the client, and the rest is not left behind.
		await_unread 90
		publish_timed "$WORK/large.json"
		check "keepalive 5 s, $name: $(wc -c <"$WORK/large.json") bytes published while a PINGRESP waits ($q bytes) arrive whole at once (${ms} ms)" \
			[ "${q:-0}" -gt 0 -a "$ms" -lt 3000 ]
		is "$(grep -c 'state subscribed' "$kw")" 1 "keepalive 5 s, $name: connected all along"
		[ "$name" = plain ] && keepalive_stall "$kw"
	else
		not_ok "keepalive 5 s, $name: subscribed"
	fi
	kill -TERM "$KPID"
	wait "$KPID"
}
# keepalive_stall OUT: a broker that stops answering (SIGSTOP: its kernel
# still takes the PINGREQ) is given up when the next ping finds the last one
# unanswered, at most two keepalives on; and is back after SIGCONT.
keepalive_stall() {
	local bpid t0 ms
	bpid=$(cat "$B/pid")
	t0=$(date +%s%N)
	kill -STOP "$bpid"
	if wait_for 15 grep -q "state waiting" "$1"; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		check "keepalive 5 s: a broker that stops answering is given up within two keepalives and a second (${ms} ms)" \
			[ "$ms" -le 12000 ]
		diag "$(grep 'state waiting' "$1" | head -1)"
	else
		not_ok "keepalive 5 s: a broker that stops answering is given up"
	fi
	kill -CONT "$bpid"
	check "keepalive 5 s: subscribed again once the broker answers" \
		wait_for 15 sh -c "[ \$(grep -c 'state subscribed' $1) -ge 2 ]"
}
head -c $((700 * 1024)) /dev/urandom | base64 -w 76 >"$WORK/large.json"
read -r MQTT_PORT MQTTS_PORT <"$B/ports"
keepalive_case TLS "mqtts://127.0.0.1:$MQTTS_PORT/tunnelctl/{id}/config" "${CERT1[@]}"
keepalive_case plain "mqtt://127.0.0.1:$MQTT_PORT/tunnelctl/{id}/config" "${AUTH1[@]}"

# --- valgrind -------------------------------------------------------------------------

if ! command -v valgrind >/dev/null; then
	skip "valgrind not installed"
elif [ -n "${TC_SANITIZED:-}" ]; then
	skip "sanitizer build: valgrind does not mix with ASan"
else
	VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
		--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes)
	own_fds() { # the fds valgrind saw open at exit that the test did not pass in
		python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
own = [l for i, l in enumerate(lines) if re.search(r"Open (file descriptor|AF_\w+ socket) \d+", l)
       and "inherited from parent" not in (lines[i + 1] if i + 1 < len(lines) else "")
       and not re.search(r"descriptor [012]:", l)]
print("\n".join(own))
PY
	}
	mqtt_pub "$B" tunnelctl/edge-1/config -r -f "$WORK/doc1.json"
	"${VG[@]}" --log-file="$WORK/vg-get.log" "$MQTTCTL" get "$TLS" --id edge-1 "${CERT1[@]}" \
		>/dev/null 2>&1
	vrc=$?
	"${VG[@]}" --log-file="$WORK/vg-rogue.log" "$MQTTCTL" get "$TLS" --id edge-1 \
		--cafile "$B/ca.crt" --certfile "$B/rogue-edge-1.crt" --keyfile "$B/rogue-edge-1.key" \
		>/dev/null 2>&1
	vrc2=$?
	check "valgrind: one-shot get and a refused certificate: no errors, no leaks, no fd left" \
		test $vrc = 0 -a $vrc2 = $EX_FETCH -a -z "$(own_fds "$WORK/vg-get.log")$(own_fds "$WORK/vg-rogue.log")"
	[ "$vrc$vrc2" = "0$EX_FETCH" ] || diag "rc $vrc $vrc2: $(head -30 "$WORK/vg-get.log" "$WORK/vg-rogue.log")"
	W=$WORK/vg-watch.out
	"${VG[@]}" --log-file="$WORK/vg-watch.log" "$MQTTCTL" watch "$TLS" --id edge-1 "${CERT1[@]}" \
		--timeout 300 >"$W" 2>&1 &
	WPID=$!
	at_exit "kill -9 $WPID"
	check "valgrind: watch gets the retained document" wait_for 60 grep -q " message " "$W"
	pubn 1 5
	reconnect 2
	mqtt_pub "$B" tunnelctl/edge-1/config -r -n
	wait_for 20 grep -q " message len=0 " "$W"
	kill -TERM "$WPID"
	wait "$WPID"
	vrc=$?
	is "$vrc" 0 "valgrind: watch over messages and 2 reconnections: no errors or leaks (exit 0, not 99)"
	check "valgrind: watch left no descriptor of its own open" test -z "$(own_fds "$WORK/vg-watch.log")"
	[ "$vrc" = 0 ] || diag "$(head -40 "$WORK/vg-watch.log")"
fi

done_testing
