#!/bin/bash
# nft_bench.sh: time installing N DNAT rules with tunnelctl's single netlink
# batch (tests/helpers/nftctl bench N) against the iptables way of one
# delete+insert pair per rule. Each measurement runs in a fresh network
# namespace, so the host's ruleset is never touched. Needs root.
# Not part of the test suite. Usage: bench/nft_bench.sh [N ...]
set -u

TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
NFTCTL=${NFTCTL:-$TC_BUILDDIR/tests/helpers/nftctl}
# Each step is cut off after this many seconds so a slow baseline cannot
# make the whole run unbounded.
STEP_LIMIT=${STEP_LIMIT:-120}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 10 100 1000)

if [ "$(id -u)" != 0 ]; then
	echo "nft_bench: needs root (it creates network namespaces)" >&2
	exit 77
fi
if [ ! -x "$NFTCTL" ]; then
	echo "nft_bench: $NFTCTL not built (make check builds it)" >&2
	exit 1
fi
IPT=$(command -v iptables || true)
[ -n "$IPT" ] || echo "# iptables not installed (Debian package iptables): baseline skipped"

NS=tcbench$$
cleanup() { ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fresh_ns() {
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS" && ip -n "$NS" link set lo up
}

# iptables_run N: seconds for N delete+insert pairs, as a shell script would
# do it (one process and one full table rewrite per command).
iptables_run() {
	local n=$1
	# shellcheck disable=SC2016
	timeout "$STEP_LIMIT" ip netns exec "$NS" bash -c '
		ipt=$1 n=$2
		t0=$(date +%s%N)
		for ((i = 0; i < n; i++)); do
			p=$((20000 + i)) ip="192.0.2.$((1 + i % 254))"
			"$ipt" -t nat -D OUTPUT -p tcp --dport "$p" -j DNAT --to-destination "$ip:443" 2>/dev/null
			"$ipt" -t nat -I OUTPUT -p tcp --dport "$p" -j DNAT --to-destination "$ip:443" || exit 1
		done
		t1=$(date +%s%N)
		awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.6f\n\", (b - a) / 1e9 }"' _ "$IPT" "$n"
}

printf '%8s  %14s  %14s  %8s\n' N tunnelctl_s iptables_s ratio
for n in "${SIZES[@]}"; do
	fresh_ns || { echo "nft_bench: ip netns add failed" >&2; exit 1; }
	ours=$(timeout "$STEP_LIMIT" ip netns exec "$NS" "$NFTCTL" bench "$n") || ours=fail
	base=skipped ratio=-
	if [ -n "$IPT" ]; then
		fresh_ns || exit 1
		base=$(iptables_run "$n") || base=fail
		if [ "$ours" != fail ] && [ "$base" != fail ]; then
			ratio=$(awk -v a="$base" -v b="$ours" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
		fi
	fi
	printf '%8s  %14s  %14s  %8s\n' "$n" "$ours" "$base" "$ratio"
done
