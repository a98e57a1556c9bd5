# mosquitto.sh: a throwaway mosquitto broker for tests (sourced; needs
# tests/helpers/sshd.sh for free_port and wait_port, as lib.sh provides).
#
#   mqtt_certs DIR            a test CA, a server certificate for 127.0.0.1 and
#                             localhost, client certificates edge-1, edge-2 and
#                             publisher, and a rogue CA with its own edge-1
#                             (DIR/ca.crt, DIR/server.*, DIR/edge-1.{crt,key},
#                             DIR/rogue-edge-1.{crt,key}, ...)
#   mqtt_broker_setup DIR     DIR/mosquitto.conf: a plain listener (password
#                             file: edge-1/pw-edge-1, edge-2/pw-edge-2,
#                             publisher/pw-publisher) and a TLS listener
#                             (require_certificate, use_identity_as_username:
#                             the client certificate's CN is the user name),
#                             both on 127.0.0.1; ACL file: publisher writes
#                             tunnelctl/#, each device reads only
#                             tunnelctl/ITS-NAME/config. persistence false.
#                             Sets MQTT_PORT and MQTTS_PORT (free ports).
#   mqtt_broker_setup_dynsec DIR   the same TLS listener, but the dynamic
#                             security plugin instead of the ACL file: it
#                             refuses a subscription the ACL does not allow
#                             (SUBACK "not authorized"), which mosquitto's
#                             acl_file (2.0) never does (it grants every
#                             subscription and then delivers nothing).
#   mqtt_broker_start DIR     start it (same ports as set up), wait for the
#                             ports; its PID in DIR/pid, log in DIR/broker.log
#   mqtt_broker_stop DIR      SIGTERM by PID (SIGKILL after 5 s), wait
#   mqtt_broker_kill DIR      SIGKILL by PID (a crash), wait
#   mqtt_pub DIR TOPIC ARGS...  mosquitto_pub as publisher over the plain
#                             listener (e.g. -r -m TEXT, -r -f FILE, -r -n)
#   mqtts_pub DIR TOPIC ARGS... the same over TLS with the publisher certificate
#
# Where the broker runs (environment, read by mqtt_broker_setup* and kept in
# DIR/where for the functions after it): MQTT_NS, a network namespace to run
# it in (default: none, the host), MQTT_ADDR, the address it listens on
# (default 127.0.0.1; the server certificate names it too), MQTT_PORTS,
# "PLAIN TLS" (default: free ports on the host's 127.0.0.1).
# shellcheck shell=bash

_mqtt_openssl() { openssl "$@" >/dev/null 2>&1; }

# _mqtt_cert DIR NAME CN CA EXT: a P-256 key and a certificate signed by CA.
_mqtt_cert() {
	local d=$1 name=$2 cn=$3 ca=$4 ext=$5
	_mqtt_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$cn" &&
		printf '%s\n' "$ext" >"$d/$name.ext" &&
		_mqtt_openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" \
			-CAcreateserial -days 2 -out "$d/$name.crt" -extfile "$d/$name.ext"
}

mqtt_certs() {
	local d=$1 n
	mkdir -p "$d" && chmod 700 "$d" || return 1
	for n in ca rogue-ca; do
		_mqtt_openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$n.key" -out "$d/$n.crt" -subj "/CN=tunnelctl test $n" -days 2 ||
			return 1
	done
	_mqtt_cert "$d" server "${MQTT_ADDR:-127.0.0.1}" ca \
		"subjectAltName=IP:127.0.0.1,DNS:localhost${MQTT_ADDR:+,IP:$MQTT_ADDR}
extendedKeyUsage=serverAuth" || return 1
	for n in edge-1 edge-2 publisher; do
		_mqtt_cert "$d" "$n" "$n" ca "extendedKeyUsage=clientAuth" || return 1
	done
	_mqtt_cert "$d" rogue-edge-1 edge-1 rogue-ca "extendedKeyUsage=clientAuth"
}

# _mqtt_where DIR: choose the ports and remember where the broker runs.
_mqtt_where() {
	if [ -n "${MQTT_PORTS:-}" ]; then
		read -r MQTT_PORT MQTTS_PORT <<<"$MQTT_PORTS"
	else
		MQTT_PORT=$(free_port)
		MQTTS_PORT=$(free_port)
	fi
	echo "${MQTT_ADDR:-127.0.0.1} ${MQTT_NS:-}" >"$1/where"
}

# _mqtt_in DIR CMD...: CMD in the broker's namespace; sets MQTT_HOST.
_mqtt_in() {
	local d=$1 ns
	shift
	read -r MQTT_HOST ns <"$d/where" 2>/dev/null || MQTT_HOST=127.0.0.1
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

_mqtt_common_conf() {
	local d=$1
	cat <<EOF
# written by tests/helpers/mosquitto.sh
per_listener_settings false
persistence false
# Root keeps reading the test's 0600 files (it would drop to "mosquitto").
user root
log_dest file $d/broker.log
log_type all
connection_messages true
allow_anonymous false

listener $MQTTS_PORT ${MQTT_ADDR:-127.0.0.1}
cafile $d/ca.crt
certfile $d/server.crt
keyfile $d/server.key
require_certificate true
use_identity_as_username true
EOF
}

mqtt_broker_setup() {
	local d=$1 u
	[ -s "$d/ca.crt" ] || mqtt_certs "$d" || return 1
	_mqtt_where "$d"
	: >"$d/passwd"
	for u in edge-1 edge-2 publisher; do
		mosquitto_passwd -b "$d/passwd" "$u" "pw-$u" >/dev/null 2>&1 || return 1
	done
	chmod 600 "$d/passwd"
	cat >"$d/acl" <<'EOF'
user publisher
topic readwrite tunnelctl/#

pattern read tunnelctl/%u/config
EOF
	{
		_mqtt_common_conf "$d"
		cat <<EOF
password_file $d/passwd
acl_file $d/acl

listener $MQTT_PORT ${MQTT_ADDR:-127.0.0.1}
EOF
	} >"$d/mosquitto.conf"
	echo "$MQTT_PORT $MQTTS_PORT" >"$d/ports"
}

mqtt_broker_setup_dynsec() {
	local d=$1 plugin
	plugin=$(ls /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so 2>/dev/null | head -1)
	[ -n "$plugin" ] || return 1
	[ -s "$d/ca.crt" ] || mqtt_certs "$d" || return 1
	_mqtt_where "$d"
	# Certificate clients carry no password: users without one are fine.
	# dynsec 2.0 substitutes no %u in patterns: one role per device.
	cat >"$d/dynsec.json" <<'EOF'
{"defaultACLAccess": {"publishClientSend": false, "publishClientReceive": true,
                      "subscribe": false, "unsubscribe": true},
 "clients": [{"username": "edge-1", "roles": [{"rolename": "edge-1"}]},
             {"username": "edge-2", "roles": [{"rolename": "edge-2"}]},
             {"username": "publisher", "roles": [{"rolename": "publisher"}]}],
 "groups": [],
 "roles": [{"rolename": "edge-1", "acls": [
             {"acltype": "subscribeLiteral", "topic": "tunnelctl/edge-1/config", "priority": 0, "allow": true}]},
           {"rolename": "edge-2", "acls": [
             {"acltype": "subscribeLiteral", "topic": "tunnelctl/edge-2/config", "priority": 0, "allow": true}]},
           {"rolename": "publisher", "acls": [
             {"acltype": "publishClientSend", "topic": "tunnelctl/#", "priority": 0, "allow": true}]}]}
EOF
	chmod 600 "$d/dynsec.json"
	{
		_mqtt_common_conf "$d"
		cat <<EOF
plugin $plugin
plugin_opt_config_file $d/dynsec.json
EOF
	} >"$d/mosquitto.conf"
	echo "$MQTT_PORT $MQTTS_PORT" >"$d/ports"
}

mqtt_broker_start() {
	local d=$1 p host ns
	read -r MQTT_PORT MQTTS_PORT <"$d/ports"
	read -r host ns <"$d/where" 2>/dev/null || host=127.0.0.1
	if [ -s "$d/pid" ] && kill -0 "$(cat "$d/pid")" 2>/dev/null; then
		echo "mqtt_broker_start: $d: already running" >&2
		return 1
	fi
	# $! must be the broker itself (ip netns exec execs it): no function
	# or subshell in between.
	if [ -n "$ns" ]; then
		ip netns exec "$ns" mosquitto -c "$d/mosquitto.conf" >>"$d/broker.out" 2>&1 &
	else
		mosquitto -c "$d/mosquitto.conf" >>"$d/broker.out" 2>&1 &
	fi
	echo $! >"$d/pid"
	for p in $MQTT_PORT $MQTTS_PORT; do
		if grep -q "^listener $p " "$d/mosquitto.conf"; then
			wait_port "$host" "$p" 10 "$ns" || { cat "$d/broker.out" >&2; return 1; }
		fi
	done
}

_mqtt_broker_signal() {
	local d=$1 sig=$2 pid i
	[ -s "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$d/pid"
}

mqtt_broker_stop() { _mqtt_broker_signal "$1" TERM; }
mqtt_broker_kill() { _mqtt_broker_signal "$1" KILL; }

mqtt_pub() {
	local d=$1 topic=$2
	shift 2
	read -r MQTT_PORT MQTTS_PORT <"$d/ports"
	read -r MQTT_HOST _ <"$d/where" 2>/dev/null || MQTT_HOST=127.0.0.1
	_mqtt_in "$d" mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -u publisher -P pw-publisher -q 1 \
		-t "$topic" "$@"
}

mqtts_pub() {
	local d=$1 topic=$2
	shift 2
	read -r MQTT_PORT MQTTS_PORT <"$d/ports"
	read -r MQTT_HOST _ <"$d/where" 2>/dev/null || MQTT_HOST=127.0.0.1
	_mqtt_in "$d" mosquitto_pub -h "$MQTT_HOST" -p "$MQTTS_PORT" --cafile "$d/ca.crt" \
		--cert "$d/publisher.crt" --key "$d/publisher.key" -q 1 -t "$topic" "$@"
}
