# sshd.sh: a throwaway OpenSSH server for integration tests. Source it:
#
#   . "$TC_SRCDIR/tests/helpers/sshd.sh"
#   D=$(mktemp -d); sshd_setup "$D"
#   P=$(free_port); sshd_start "$D" "$P"          # or: sshd_start_ns NS "$D" 22 192.0.2.1
#   ssh -F none -i "$D/client_key" -o UserKnownHostsFile="$D/known_hosts" \
#       -o StrictHostKeyChecking=yes -p "$P" -N -R 0:127.0.0.1:22 root@127.0.0.1
#   sshd_stop "$D"; rm -rf "$D"
#
# After sshd_setup: SSHD_HOSTKEY_PUB is "ssh-ed25519 AAAA..." (no comment),
# DIR/known_hosts pins it for 127.0.0.1 (for tests that want a pinned key),
# DIR/client_key is the client's private key (0600), authorized for root.
# Functions return non-zero (with a message on stderr) instead of exiting, so
# callers decide; every wait is bounded.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

# sshd_setup DIR: keys, authorized_keys and sshd_config in DIR (created 0700).
sshd_setup() {
	local dir=$1
	[ -n "$dir" ] || { echo "sshd_setup: no DIR" >&2; return 1; }
	mkdir -p "$dir" && chmod 700 "$dir" || return 1
	rm -f "$dir/host_key" "$dir/host_key.pub" "$dir/client_key" "$dir/client_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C tc-test-host -f "$dir/host_key" </dev/null || return 1
	ssh-keygen -q -t ed25519 -N '' -C tc-test-client -f "$dir/client_key" </dev/null || return 1
	chmod 600 "$dir/host_key" "$dir/client_key" "$dir/client_key.pub"
	cp "$dir/client_key.pub" "$dir/authorized_keys" && chmod 600 "$dir/authorized_keys" || return 1
	SSHD_HOSTKEY_PUB=$(cut -d' ' -f1,2 "$dir/host_key.pub")
	echo "127.0.0.1 $SSHD_HOSTKEY_PUB" >"$dir/known_hosts"
	# sshd stores known_hosts entries for non-22 ports as [host]:port, so also
	# pin those callers can't predict: a wildcard covering every port on loopback.
	echo "[127.0.0.1]:* $SSHD_HOSTKEY_PUB" >>"$dir/known_hosts"
	chmod 600 "$dir/known_hosts"
	_sshd_write_config "$dir" || return 1
	export SSHD_HOSTKEY_PUB
}

_sshd_write_config() {
	local dir=$1
	_sshd_privsep_dir || return 1
	cat >"$dir/sshd_config" <<EOF || return 1
# Throwaway test sshd (tests/helpers/sshd.sh). ListenAddress comes from -o.
PidFile $dir/sshd.pidfile
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowTcpForwarding yes
GatewayPorts no
# A dead client's session (and its remote listen port) goes away in ~4-6 s.
ClientAliveInterval 2
ClientAliveCountMax 2
StrictModes no
UsePAM no
LogLevel VERBOSE
MaxStartups 100
EOF
	# OpenSSH 9.8+ penalises sources that fail repeatedly; tests fail on purpose.
	if "$SSHD_BIN" -t -f "$dir/sshd_config" -o PerSourcePenalties=no \
		-o ListenAddress=127.0.0.1:1 >/dev/null 2>&1; then
		echo "PerSourcePenalties no" >>"$dir/sshd_config"
	fi
	"$SSHD_BIN" -t -f "$dir/sshd_config" -o ListenAddress=127.0.0.1:1 || {
		echo "sshd_setup: sshd -t rejected $dir/sshd_config" >&2
		return 1
	}
}

# sshd (even -t) refuses to run without its privilege separation directory.
_sshd_privsep_dir() {
	[ -d /run/sshd ] || mkdir -p -m 755 /run/sshd
}

# free_port: a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# _port_open HOST PORT [NS]: 0 when a TCP connect succeeds.
_port_open() {
	local host=$1 port=$2 ns=${3:-}
	if [ -n "$ns" ]; then
		ip netns exec "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
	else
		timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
	fi
}

# wait_port HOST PORT SECONDS [NS]: wait until HOST:PORT accepts (0) or give up (1).
wait_port() {
	local host=$1 port=$2 secs=${3:-5} ns=${4:-} i
	for ((i = 0; i < secs * 10; i++)); do
		_port_open "$host" "$port" "$ns" && return 0
		sleep 0.1
	done
	return 1
}

# wait_port_closed HOST PORT SECONDS [NS]: wait until HOST:PORT refuses (0) or give up (1).
wait_port_closed() {
	local host=$1 port=$2 secs=${3:-5} ns=${4:-} i
	for ((i = 0; i < secs * 10; i++)); do
		_port_open "$host" "$port" "$ns" || return 0
		sleep 0.1
	done
	return 1
}

# sshd_start DIR PORT [ADDR]: run sshd in the background on ADDR:PORT
# (default 127.0.0.1); 0 once the port accepts (within 5 s).
sshd_start() {
	_sshd_start_in "" "$@"
}

# sshd_start_ns NS DIR PORT ADDR: the same inside network namespace NS.
sshd_start_ns() {
	_sshd_start_in "$@"
}

_sshd_start_in() {
	local ns=$1 dir=$2 port=$3 addr=${4:-127.0.0.1} pid listen
	[ -f "$dir/sshd_config" ] || { echo "sshd_start: run sshd_setup $dir first" >&2; return 1; }
	[ -n "$port" ] || { echo "sshd_start: no PORT" >&2; return 1; }
	_sshd_privsep_dir || return 1
	case $addr in *:*) listen="[$addr]:$port" ;; *) listen="$addr:$port" ;; esac
	printf '%s\n' "$ns" "$port" "$addr" >"$dir/sshd.args"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$SSHD_BIN" -D -e -f "$dir/sshd_config" \
			-o ListenAddress="$listen" >>"$dir/sshd.log" 2>&1 </dev/null &
	else
		"$SSHD_BIN" -D -e -f "$dir/sshd_config" \
			-o ListenAddress="$listen" >>"$dir/sshd.log" 2>&1 </dev/null &
	fi
	pid=$!
	echo "$pid" >"$dir/sshd.pid"
	if ! wait_port "$addr" "$port" 5 "$ns"; then
		echo "sshd_start: sshd on $listen did not accept within 5 s; log:" >&2
		tail -n 5 "$dir/sshd.log" >&2
		sshd_stop "$dir"
		return 1
	fi
}

# sshd_stop DIR: stop the listener started by sshd_start (bounded wait, then
# SIGKILL). Sessions' child processes exit on their own once their client goes
# or the listener is gone; use sshd_kill_sessions DIR to drop them at once.
sshd_stop() {
	local dir=$1 pid i
	[ -f "$dir/sshd.pid" ] || return 0
	pid=$(cat "$dir/sshd.pid")
	rm -f "$dir/sshd.pid"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# sshd_kill_sessions DIR: kill the per-connection sshd processes (children of
# the listener), as a server reboot would. Call before sshd_stop.
sshd_kill_sessions() {
	local dir=$1 pid c
	[ -f "$dir/sshd.pid" ] || return 0
	pid=$(cat "$dir/sshd.pid")
	for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		kill -KILL "$c" 2>/dev/null
	done
	return 0
}

# sshd_restart DIR: sshd_stop, then sshd_start with the arguments it had.
sshd_restart() {
	local dir=$1 ns port addr
	{ read -r ns; read -r port; read -r addr; } <"$dir/sshd.args" || return 1
	sshd_stop "$dir"
	wait_port_closed "$addr" "$port" 5 "$ns"
	_sshd_start_in "$ns" "$dir" "$port" "$addr"
}
