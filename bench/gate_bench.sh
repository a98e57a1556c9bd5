#!/bin/bash
# bench/gate_bench.sh: what one `tunnelctl-gate serve` costs while it holds
# a session: RSS (VmRSS), private memory (USS: Private_Clean + Private_Dirty
# of /proc/PID/smaps_rollup), PSS, and CPU time over an idle minute, for
# GATE_N sessions (default 50) held at once on a throwaway sshd set up as
# docs/SERVER.md says. Prints markdown tables; docs/BENCHMARKS.md section 7.
#
#   sudo bench/gate_bench.sh            # from a build dir, or TC_BUILDDIR=...
#   GATE_N=200 GATE_SECS=300 sudo bench/gate_bench.sh
#
# Root (it creates a system account, removed at exit). Loopback only.
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
TC_SRCDIR=${TC_SRCDIR:-$(dirname "$BENCH_DIR")}
TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
GATE_N=${GATE_N:-50}
GATE_SECS=${GATE_SECS:-60}
. "$TC_SRCDIR/tests/helpers/sshd.sh"

[ "$(id -u)" = 0 ] || { echo "gate_bench: needs root" >&2; exit 77; }
GATE_BUILT=$TC_BUILDDIR/bin/tunnelctl-gate
[ -x "$GATE_BUILT" ] || { echo "gate_bench: no $GATE_BUILT (build, or set TC_BUILDDIR)" >&2; exit 1; }

W=$(mktemp -d /tmp/tcgatebench.XXXXXX)
chmod 755 "$W"
U=tcgb$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sshd_kill_sessions "$W/sshd"
	sshd_stop "$W/sshd"
	userdel "$U" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

install -d -m 755 "$W/bin"
install -m 755 "$GATE_BUILT" "$W/bin/tunnelctl-gate"
GATE=$W/bin/tunnelctl-gate
useradd -r -M -d "$W/home" -s "$GATE" "$U" || exit 1
usermod -p '*' "$U"
install -d -o "$U" -g "$U" -m 0700 "$W/home"
install -d -o "$U" -g "$U" -m 0750 "$W/reg"
D=$W/sshd
sshd_setup "$D" >/dev/null || exit 1
chmod 755 "$D"
TUNNELCTL_GATE_PATH=$GATE "$GATE" authorized-key --device bench --ports 0 --registry "$W/reg" \
	<"$D/client_key.pub" >"$D/authorized_keys"
chmod 644 "$D/authorized_keys"
sed -e "s|^Match User tunnel\$|Match User $U|" "$TC_SRCDIR/examples/gate/tunnelctl-gate.sshd.conf" >>"$D/sshd_config"
P=$(free_port)
sshd_start "$D" "$P" || exit 1

# Sessions one after another: same key, port 0 each (so no two register in
# the same instant, see tunnelctl-gate(8)).
for ((i = 1; i <= GATE_N; i++)); do
	ssh -n -F none -i "$D/client_key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$D/known_hosts" \
		-o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=30 \
		-R 127.0.0.1:0:127.0.0.1:9 -p "$P" "$U@127.0.0.1" \
		"tunnelctl-gate hello 1 tunnel=t$i target=192.0.2.50:443 expires=0" 2>"$W/dev$i.err" &
	pids+=($!)
	for ((k = 0; k < 100; k++)); do
		grep -qs registered "$W/dev$i.err" && break
		sleep 0.1
	done
	grep -q registered "$W/dev$i.err" || { echo "gate_bench: session $i did not register: $(cat "$W/dev$i.err")" >&2; exit 1; }
done
mapfile -t serves < <(TUNNELCTL_GATE_REGISTRY=$W/reg "$GATE" list --json | jq -r '.sessions[].pid')
mapfile -t sessions < <(for s in "${serves[@]}"; do
	p=$(awk '{print $4}' /proc/"$s"/stat)
	# serve's parent is the sshd session process (the gate is the login shell)
	echo "$p"
done)
[ "${#serves[@]}" = "$GATE_N" ] || { echo "gate_bench: ${#serves[@]} sessions listed, want $GATE_N" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
declare -A t0
for s in "${serves[@]}" "${sessions[@]}"; do t0[$s]=$(ticks "$s"); done
sleep "$GATE_SECS"
hz=$(getconf CLK_TCK)

# mem PIDS...: median and max of VmRSS, USS, PSS (KiB) and CPU ticks used.
mem() {
	local p
	for p in "$@"; do
		printf '%s %s %s %s\n' \
			"$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status)" \
			"$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' /proc/"$p"/smaps_rollup)" \
			"$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup)" \
			"$(( $(ticks "$p") - ${t0[$p]} ))"
	done
}
stats() { # column: median max
	sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s", m, v[NR]}'
}
row() { # NAME file
	local rss uss pss cpu
	rss=$(cut -d' ' -f1 "$2" | stats)
	uss=$(cut -d' ' -f2 "$2" | stats)
	pss=$(cut -d' ' -f3 "$2" | stats)
	cpu=$(awk -v hz="$hz" -v secs="$GATE_SECS" '{s += $4} END {printf "%.3f", s / hz}' "$2")
	printf '| %s | %s / %s | %s / %s | %s / %s | %s |\n' "$1" ${rss} ${uss} ${pss} "$cpu"
}
mem "${serves[@]}" >"$W/serve.mem"
mem "${sessions[@]}" >"$W/sshd.mem"
echo "## tunnelctl-gate serve: $GATE_N idle sessions held for $GATE_SECS s"
echo
echo "| process (one per session) | VmRSS KiB median / max | USS KiB median / max | PSS KiB median / max | CPU s, all $GATE_N together, over ${GATE_SECS} s |"
echo "|---|---|---|---|---|"
row "tunnelctl-gate serve" "$W/serve.mem"
row "sshd session process (for scale)" "$W/sshd.mem"
echo
echo "$(uname -r), $(nproc) CPUs, OpenSSH $(ssh -V 2>&1 | sed -n 's/^OpenSSH_\([^ ,]*\).*/\1/p'); gate binary $(stat -c %s "$GATE") bytes"
