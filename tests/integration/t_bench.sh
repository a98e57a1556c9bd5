#!/bin/bash
# t_bench.sh: bench/run end to end with the smallest samples: every section
# prints its table and goal lines, every baseline runs, nothing is left
# behind. No figure is asserted: figures come from the benchmark itself
# (docs/BENCHMARKS.md), never from timed checks in tests. What is asserted
# is behaviour the tables show: an idle poll is two 304s without a body, on
# one connection when the server keeps it open.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
[ -z "${TC_SANITIZED:-}" ] || skip_all "sanitizer build: the bench measures the plain build"
for t in autossh ssh curl jq strace nft iptables python3; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
[ -x /usr/bin/time ] || skip_all "GNU time not installed"
[ -x /usr/sbin/sshd ] || skip_all "sshd not installed"
tc_setup
# The watch section needs a broker and its clients; without them it is left out.
sections="poll nft mem up recovery"
goals=5
watch=1
for t in mosquitto mosquitto_pub mosquitto_passwd openssl nsenter; do
	command -v "$t" >/dev/null || watch=0
done
[ "$watch" = 1 ] && sections="$sections watch" goals=12

leftovers() {	# namespaces and state dirs the bench makes
	{ ip netns list | grep -E '^tcb[a-z]*[0-9]+'; ls -d /dev/shm/tcbench.* /tmp/tcbench.*; } 2>/dev/null | wc -l
}
before=$(leftovers)
N=2 UP_N=1 REC_N=1 MEM_N=2 REPS=1 NFT_SIZES="1 10" LIMIT=60 \
	WATCH_N=1 WATCH_HN=1 WATCH_ROUNDS=20 WATCH_KEEPALIVE=5 WATCH_EXCHANGES=1 WATCH_COLD_S=6 \
	TC_BUILDDIR=$TC_BUILDDIR TC_BIN=$TC_BIN timeout 900 bash "$TC_SRCDIR/bench/run" \
	$sections >"$WORK/out" 2>"$WORK/err"
RC=$?
is "$RC" 0 "bench/run exits 0 ($(tail -n 3 "$WORK/err" | tr '\n' ';'))"
OUT=$WORK/out
has() { grep -qE -- "$1" "$OUT"; }
row() { grep -E -- "$1" "$OUT" | head -1; }
col() { row "$1" | awk -v c="$2" '{ print $c }'; }

# 1. idle poll: columns server tool wall cpu rss procs threads execs conns wire http body
check "poll: the table is printed" has '^== 1\. idle cron poll'
for s in etag lastmod noetag etag-ka; do
	check "poll: $s row for the script" has "^$s +script +[0-9.]+ +[0-9.]+ "
	check "poll: $s row for tunnelctl" has "^$s +tunnelctl +[0-9.]+ +[0-9.]+ "
done
is "$(col '^etag +tunnelctl' 6)" 1 "poll: tunnelctl is one process"
is "$(col '^etag +script' 6)" 8 "poll: the script is eight processes"
is "$(col '^etag +tunnelctl' 12)" 0 "poll: ETag server: no body moves for tunnelctl"
is "$(col '^etag-ka +tunnelctl' 9)" 1.0 "poll: keep-alive server: one connection per poll"
is "$(col '^etag +tunnelctl' 9)" 2.0 "poll: closing server: two connections per poll"
check "poll: noetag: tunnelctl moves the whole bodies" \
	test "$(col '^noetag +tunnelctl' 12)" = "$(col '^noetag +script' 12)"
if command -v valgrind >/dev/null; then
	check "poll: instruction counts by part" has '^  ld\.so: mapping and relocating [0-9]+ libraries +[0-9]+'
	check "poll: instruction ratio" has '^ratio script/tunnelctl in instructions: [0-9.]+x$'
fi
if command -v cc >/dev/null; then
	check "poll: the floor of a per-poll process" has '^ratio tunnelctl sync/floor: [0-9.]+x in CPU, ([0-9.]+x|-) in instructions$'
fi
# (the two DNAT goals need 100 and 1000 rules, so they are not printed here)
is "$(grep -c "^goal: " "$OUT")" "$goals" "every goal line is printed (poll 3, memory 1, tunnel up 1, watch 7)"

# 2. DNAT install
check "nft: the table is printed" has '^== 2\. DNAT install'
for n in 1 10; do
	check "nft: $n rule(s): both tools, both passes, no failure" \
		has "^ +$n +[0-9.]+ +[0-9.]+ +[0-9.]+x +[0-9.]+ +[0-9.]+ +[0-9.]+x$"
done

# 3. memory
check "mem: the supervisor row" has '^tunnelctl supervisor +[0-9]+ +[0-9]+ +[0-9]+$'
check "mem: the python baseline row" has '^idle python3 asyncio process +[0-9]+ +[0-9]+ +[0-9]+$'
check "mem: the per-mapping runs" has '^2 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$'
check "mem: the median line" has '^supervisor RSS: median [0-9]+ kB, min [0-9]+, max [0-9]+$'

# 4. tunnel up, 5. recovery
check "up: both tools measured" has '^ratio tunnelctl/autossh: [0-9.]+x$'
check "recovery: both tools recovered" has '^1 +[0-9.]+ +[0-9.]+ +[0-9.]+$'

# 8. watch
if [ "$watch" = 0 ]; then
	skip "watch: mosquitto, mosquitto-clients, openssl or nsenter not installed"
else
check "watch: the section is printed" has '^== 8\. watch'
check "watch: reaction of plain ssh -R" has '^plain ssh -R .* +[0-9.]+ +[0-9.]+ +[0-9.]+$'
check "watch: reaction of watch + MQTT" has '^watch \+ MQTT \(mqtts\): a tunnel added +[0-9.]+ '
check "watch: reaction of watch + HTTP" has '^watch \+ HTTP, --interval 5s .* +[0-9.]+ +[0-9.]+ +[0-9.]+$'
check "watch: CPU of an idle round" has '^tunnelctl watch round \(two 304s\) +[0-9.]+ '
check "watch: idle MQTT, one keepalive period timed" has '^watch \+ MQTT \(mqtts, interval 60s\) +[0-9.]+ +1 '
check "watch: bytes per day of cron sync" has '^cron sync \(one native document, http\) +[0-9]+ +[0-9]+$'
if command -v cc >/dev/null; then
	check "watch: the floor of a wake-up a keepalive apart" \
		has '^the same woken every 5000 ms, as the watchers \(4 processes, 1 wake-up\(s\) each\): median [0-9.]+ ms CPU \([0-9.]+ to [0-9.]+\)$'
fi
check "watch: memory of the HTTP watcher" has '^watch \+ HTTP \(SORACOM\)( +[0-9]+){6}$'
if command -v cc >/dev/null; then
	check "watch: the memory floor of an idle libcurl program" has '^floor: idle libcurl program( +-){4} +[0-9]+ +[0-9]+$'
	check "watch: the HTTP watcher above that floor" has '^above the floor: watch \+ HTTP private dirty \+-?[0-9]+ kB, USS \+-?[0-9]+ kB$'
fi
fi
check "nothing is left behind (namespaces, state dirs)" test "$(leftovers)" = "$before"
bench_supervisors() {	# supervisors whose state dir is one of the bench's
	local f n=0
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qE -- '__supervise (/dev/shm|/tmp)/tcbench\.' && n=$((n + 1))
	done
	echo "$n"
}
is "$(bench_supervisors)" 0 "no supervisor of the bench is left"
bench_watchers() {	# tunnelctl watch processes whose state dir is one of the bench's
	local f n=0
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qE -- '--state-dir (/dev/shm|/tmp)/tcbench\.[^ ]* .*watch' && n=$((n + 1))
	done
	echo "$n"
}
is "$(bench_watchers)" 0 "no watcher of the bench is left"
done_testing
