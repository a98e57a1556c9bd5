#!/bin/bash
# nft_bench.sh: time installing N DNAT rules with tunnelctl's single netlink
# batch (tests/helpers/nftctl bench N) against the iptables way of one
# delete+insert pair per rule. Each measurement runs in a fresh network
# namespace, so the host's ruleset is never touched. Needs root.
# Not part of the test suite. Usage: [REPS=5] bench/nft_bench.sh [N ...]
set -u

TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
NFTCTL=${NFTCTL:-$TC_BUILDDIR/tests/helpers/nftctl}
# Each step is cut off after this many seconds so a slow baseline cannot
# make the whole run unbounded.
STEP_LIMIT=${STEP_LIMIT:-120}
REPS=${REPS:-5}
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
TMPF=$(mktemp)
cleanup() { ip netns del "$NS" 2>/dev/null; rm -f "$TMPF"; }
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

# median of the numbers on stdin ("fail" if any failed)
median() { sort -g | awk '{ a[NR] = $1 } /fail/ { bad = 1 } END { if (bad || NR == 0) print "fail"; else print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "fail" && b != "fail" && b > 0) printf "%.1fx", a / b; else print "-" }'; }

# One sample of TOOL (ours | ipt) for N rules in a fresh namespace: "FIRST
# AGAIN", the seconds of the first install and of applying the same rules
# again over them (what a cron job does on every later run).
sample() {
	local tool=$1 n=$2 a b
	fresh_ns || { echo "fail fail"; return; }
	if [ "$tool" = ours ]; then
		a=$(timeout "$STEP_LIMIT" ip netns exec "$NS" "$NFTCTL" bench "$n") || a=fail
		b=$(timeout "$STEP_LIMIT" ip netns exec "$NS" "$NFTCTL" bench "$n") || b=fail
	else
		a=$(iptables_run "$n") || a=fail
		b=$(iptables_run "$n") || b=fail
	fi
	echo "${a:-fail} ${b:-fail}"
}

printf '%8s  %12s %12s %8s   %12s %12s %8s\n' N tc_first ipt_first ratio tc_again ipt_again ratio
for n in "${SIZES[@]}"; do
	# REPS samples per size and tool, the median kept; iptables at 1000
	# rules takes many seconds, so it runs once there.
	reps=$REPS
	for _ in $(seq "$reps"); do sample ours "$n"; done >"$TMPF"
	of=$(cut -d' ' -f1 "$TMPF" | median) oa=$(cut -d' ' -f2 "$TMPF" | median)
	bf=skipped ba=skipped
	if [ -n "$IPT" ]; then
		[ "$n" -ge 1000 ] && reps=1
		for _ in $(seq "$reps"); do sample ipt "$n"; done >"$TMPF"
		bf=$(cut -d' ' -f1 "$TMPF" | median) ba=$(cut -d' ' -f2 "$TMPF" | median)
	fi
	printf '%8s  %12s %12s %8s   %12s %12s %8s\n' "$n" "$of" "$bf" "$(ratio "$bf" "$of")" \
		"$oa" "$ba" "$(ratio "$ba" "$oa")"
	eval "OF_$n=\$of OA_$n=\$oa BF_$n=\$bf BA_$n=\$ba"
done
# The issue's goals: >= 50x faster than iptables at 100 rules, and linear
# growth (from 100 to 1000 rules: at most 10x the time, with 50 % slack).
goal50() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "fail" || b == "fail" || a == "skipped") print "-"; else print (a >= 50 * b) ? "met" : "NOT met" }'; }
if [ -n "${OF_100:-}" ]; then
	echo "goal: >= 50x faster than iptables at 100 rules: applied again $(goal50 "$BA_100" "$OA_100"), first install $(goal50 "$BF_100" "$OF_100")"
fi
if [ -n "${OA_100:-}" ] && [ -n "${OA_1000:-}" ] && [ "$OA_100" != fail ] && [ "$OA_1000" != fail ]; then
	echo "goal: linear growth (100 -> 1000 rules <= 15x the time): $(awk -v a="$OA_1000" -v b="$OA_100" 'BEGIN { printf "%s (%.1fx)", (a <= 15 * b) ? "met" : "NOT met", a / b }')"
fi
