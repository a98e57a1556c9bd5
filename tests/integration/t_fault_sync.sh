#!/bin/bash
# t_fault_sync.sh: sync under faults and load (issue 6, docs/RELIABILITY.md
# C1-C3), with a real sshd and autossh on loopback and tests/helpers/httpd.py.
#   C1 config server refused / 500 / garbage / empty: running tunnels untouched
#      (hang and the other fetch faults: t_sync.sh)
#   C2 cron overlap: 20 syncs released at the same instant while the document
#      changes under them
#   C3 churn: FAULT_SOAK_CYCLES sync cycles (default 50) with start/restart/stop
#      and at least FAULT_SOAK_EXPIRIES expiries (default 10); fds, RSS and
#      processes of long-lived supervisors, files and processes before == after.
# tests/soak/soak_sync.sh runs this with 500 cycles and 50 expiries.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
CYCLES=${FAULT_SOAK_CYCLES:-50}
EXPIRIES=${FAULT_SOAK_EXPIRIES:-10}
loopback_fixture
ROOT=$WORK/www
mkdir -p "$ROOT"
python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$ROOT" --portfile "$WORK/httpd.port" \
	--logfile "$WORK/httpd.log" >"$WORK/httpd.err" 2>&1 &
at_exit "kill $!"
wait_for 5 test -s "$WORK/httpd.port" || skip_all "httpd.py did not start"
URL=http://127.0.0.1:$(cat "$WORK/httpd.port")/cfg.json
DOC=$ROOT/cfg.json
DEV=edge-7

# gendoc NAME:RPORT[:timeout=D]...: the native document for $DEV (atomically)
gendoc() {
	python3 - "$SSHD/client_key" "$SSHD_HOSTKEY_PUB" "$SPORT" "$TPORT" "$DOC" "$@" <<'EOF'
import json, os, sys
keyf, hk, sport, tport, out = sys.argv[1:6]
pem = open(keyf).read()
ts = []
for a in sys.argv[6:]:
    p = a.split(":")
    t = {"name": p[0], "server": {"host": "127.0.0.1", "port": int(sport), "user": "root",
         "host_key": hk}, "remote": {"port": int(p[1])},
         "target": {"host": "127.0.0.1", "port": int(tport)}, "private_key": pem}
    for o in p[2:]:
        if o.startswith("timeout="):
            t["timeout"] = o.split("=", 1)[1]
    ts.append(t)
with open(out + ".tmp", "w") as f:
    json.dump({"version": 1, "devices": {"edge-7": {"tunnels": ts}}}, f)
os.replace(out + ".tmp", out)
EOF
}
setmode() { if [ -n "$1" ]; then echo "$1" >"$DOC.mode"; else rm -f "$DOC.mode"; fi; }
sync_() { tc sync --source "$URL" --id "$DEV" "$@"; }
sup_of() { jfield "$1" pid; }
# session_procs: processes in the sessions of every live supervisor of $STATE
session_procs() {
	local p n=0
	for p in $(pgrep -f -- "__supervise $STATE "); do
		n=$((n + $(pgrep -s "$p" | wc -l)))
	done
	echo "$n"
}
json_whole() {
	local f
	for f in "$STATE"/*/spec.json "$STATE"/*/run.json; do
		[ -e "$f" ] || continue
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null || return 1
	done
}
no_tmp() { [ -z "$(find "$STATE" -name '*.tmp*')" ]; }
fds() { ls "/proc/$1/fd" | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# n_up_is N: exactly N tunnels are up
n_up_is() {
	[ "$(tc status --json 2>/dev/null | python3 -c '
import json, sys
print(sum(t["state"] == "up" for t in json.load(sys.stdin)["tunnels"]))')" = "$1" ]
}
ports() { # the remote ports of the running tunnels, "name:port" sorted
	tc status --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted("%s:%s" % (t["name"], t["remote_port"]) for t in json.load(sys.stdin)["tunnels"] if t["state"] != "expired")))'
}

P=()
for i in 0 1 2 3 4 5 6 7; do P+=("$(free_port)"); done
BASE=${P[0]}

# --- C1: config server faults: nothing running is touched ------------------------
gendoc "base:$BASE"
out=$(sync_ 2>&1)
is "$?" 0 "sync starts base"
check "base up" wait_for 15 state_is base up
SB=$(sup_of base)
SSHB=$(pgrep -s "$SB" -x ssh)
untouched() { [ "$(sup_of base):$(pgrep -s "$SB" -x ssh)" = "$SB:$SSHB" ] && state_is base up; }
fault() { # DESC WANT_RC [ARGS]
	local desc=$1 want=$2 o
	shift 2
	o=$(sync_ "$@" 2>&1)
	is "$?" "$want" "C1: $desc: exit $want"
	check "C1: $desc: base untouched (same supervisor and ssh PIDs)" untouched
}
fault "connection refused" 69 --source "http://127.0.0.1:$(free_port)/cfg.json"
setmode 500
fault "HTTP 500" 69
setmode ""
cp "$DOC" "$WORK/good.json"
head -c 300 /dev/urandom >"$DOC"
fault "garbage body" 65
printf '{"version": 1, "devices": {"edge-7": {"tunnels": [{"name": "base"}]}}}' >"$DOC"
fault "a tunnel missing required fields" 65
setmode empty
fault "empty body" 65
setmode ""
cp "$WORK/good.json" "$DOC"
out=$(sync_ 2>&1)
check "C1: good document again: base unchanged ($out)" grep -q '^base: unchanged' <<<"$out"

# --- C2: 20 syncs at the same instant, the document changing under them -----------
GO=$WORK/go
V1="base:$BASE o1:${P[1]} o2:${P[2]}"
V2="base:$BASE o2:${P[3]} o3:${P[4]}"
V3="base:$BASE o1:${P[5]} o3:${P[4]}"
gendoc $V1
pids=()
for i in $(seq 1 20); do
	( while [ ! -e "$GO" ]; do sleep 0.005; done
	  exec "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" sync --source "$URL" --id "$DEV" ) \
		>"$WORK/c2.$i" 2>&1 &
	pids+=($!)
done
sleep 0.5
touch "$GO"
sleep 0.3; gendoc $V2
sleep 0.3; gendoc $V3
codes=""
for p in "${pids[@]}"; do wait "$p"; codes="$codes$?"; done
is "$codes" 00000000000000000000 "C2: all 20 overlapping syncs exit 0"
st=$(ports)
case "$st" in
"base:$BASE o1:${P[1]} o2:${P[2]}" | "base:$BASE o2:${P[3]} o3:${P[4]}" | "base:$BASE o1:${P[5]} o3:${P[4]}")
	ok "C2: the state is one whole version of the document ($st)" ;;
*) not_ok "C2: the state is one whole version of the document"; diag "got '$st'" ;;
esac
is "$(supervisors o1):$(supervisors o2):$(supervisors o3)" \
	"$(for n in o1 o2 o3; do grep -q " $n:" <<<" $st" && printf 1 || printf 0; [ $n = o3 ] || printf :; done)" \
	"C2: one supervisor per running tunnel, none for the others"
check "C2: every spec.json/run.json is whole JSON" json_whole
check "C2: no temporary files left" no_tmp
check "C2: base untouched throughout" untouched
out=$(sync_ 2>&1)
is "$?" 0 "C2: a last sync exits 0"
is "$(ports)" "base:$BASE o1:${P[5]} o3:${P[4]}" "C2: ... and converges on the final document"
# A tunnel restarted onto a port another one held a moment ago may first get
# "remote port forwarding failed" until the server has freed it; autossh's
# backoff is capped at AUTOSSH_POLL (30 s), so allow that much.
check "C2: its tunnels come up" wait_for 45 n_up_is 3
is "$(supervisors o1):$(supervisors o2):$(supervisors o3):$(supervisors base)" "1:0:1:1" \
	"C2: exactly one supervisor per tunnel"
for n in o1 o3; do
	s=$(sup_of $n)
	is "$(pgrep -s "$s" -x ssh | wc -l)" 1 "C2: one ssh in $n's session"
done

# --- C3: churn --------------------------------------------------------------------
gendoc "base:$BASE"
sync_ >/dev/null 2>&1
RH=$(free_port)
tc start hand --server "root@127.0.0.1:$SPORT" --remote-port "$RH" --target "127.0.0.1:$TPORT" \
	--key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" >/dev/null 2>&1
check "C3: hand and base up" wait_for 15 n_up_is 2
SH=$(sup_of hand)
sleep 1
before="fds base $(fds "$SB") hand $(fds "$SH"); rss base $(rss "$SB") hand $(rss "$SH"); procs $(session_procs); supervisors $(supervisors)"
files_before=$(cd "$STATE" && find . -path ./.fetch -prune -o -print | sort)
fetch_before=$(cd "$STATE/.fetch" && find . | sort)
FPORTS=("${P[@]:1}")
exp=0 ex_port=0 starts=0 stops=0 restarts=0 t0=$SECONDS failed_rc=0
for ((c = 0; c < CYCLES || exp < EXPIRIES; c++)); do
	[ $c -ge $((CYCLES * 4)) ] && break
	args=("base:$BASE")
	# distinct ports: two tunnels on one remote port are refused (validation)
	mapfile -t pick < <(printf '%s\n' "${FPORTS[@]}" | shuf)
	i=0
	for n in c1 c2 c3; do
		[ $((RANDOM % 3)) = 0 ] && continue
		args+=("$n:${pick[$i]}")
		i=$((i + 1))
	done
	# ex has a 1 s timeout; after each expiry a new port starts it again
	args+=("ex:$((BASE + 1 + ex_port)):timeout=1s")
	gendoc "${args[@]}"
	if ! out=$(sync_ 2>&1); then
		failed_rc=$((failed_rc + 1))
		[ "$failed_rc" -le 3 ] && diag "C3 cycle $c: $(head -c 600 <<<"$out")"
	fi
	if grep -q '^ex: expired' <<<"$out"; then
		exp=$((exp + 1))
		ex_port=$(((ex_port + 1) % 5))
	fi
	starts=$((starts + $(grep -c ': started' <<<"$out")))
	restarts=$((restarts + $(grep -c ': restarted' <<<"$out")))
	stops=$((stops + $(grep -c ': stopped' <<<"$out")))
	[ $exp -lt "$EXPIRIES" ] && [ $c -ge $((CYCLES - 1)) ] && sleep 1
done
diag "C3: $c cycles in $((SECONDS - t0)) s: $starts started, $restarts restarted, $stops stopped, $exp expired"
is "$failed_rc" 0 "C3: every one of the $c syncs exited 0"
check "C3: at least $EXPIRIES expiries seen ($exp)" [ "$exp" -ge "$EXPIRIES" ]
churned() { [ "$starts" -gt 0 ] && [ "$restarts" -gt 0 ] && [ "$stops" -gt 0 ]; }
check "C3: the churn started, restarted and stopped tunnels" churned
check "C3: every spec.json/run.json is whole JSON" json_whole
check "C3: no temporary files left" no_tmp
# back to the starting document
gendoc "base:$BASE"
sync_ >/dev/null 2>&1
tc stop ex >/dev/null 2>&1
sleep 1
check "C3: base and hand kept their supervisors" [ "$(sup_of base):$(sup_of hand)" = "$SB:$SH" ]
check "C3: base and hand still up" n_up_is 2
after="fds base $(fds "$SB") hand $(fds "$SH"); rss base $(rss "$SB") hand $(rss "$SH"); procs $(session_procs); supervisors $(supervisors)"
is "$after" "$before" "C3: fds, RSS of the long-lived supervisors, processes and supervisors: after == before"
files_after=$(cd "$STATE" && find . -path ./.fetch -prune -o -print | sort)
is "$files_after" "$files_before" "C3: the state dir holds the same files as before"
is "$(cd "$STATE/.fetch" && find . | sort)" "$fetch_before" "C3: the fetch cache holds the same files as before (one document)"
zombies=$(ps -eo stat=,ppid= | awk -v a="$SB" -v b="$SH" '$1 ~ /^Z/ && ($2 == a || $2 == b)' | wc -l)
is "$zombies" 0 "C3: no zombies under the supervisors"
check "C3: base carries traffic" [ "$(fetch_token "$BASE")" = "$TOKEN" ]
ps -eo args= | grep -F -- "$STATE" | grep -v grep >"$WORK/leftover"
tc stop --all >/dev/null 2>&1
check "C3: stop --all leaves no process of this state dir" \
	wait_for 10 sh -c "! ps -eo args= | grep -F -- '$STATE/' | grep -qv grep"
done_testing
