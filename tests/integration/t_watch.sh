#!/bin/bash
# t_watch.sh: `tunnelctl watch` with an HTTP source, end to end (SPEC "watch
# and push"): a config server on loopback (tests/helpers/httpd.py, keeping
# connections open), a real sshd and autossh. The source unreachable at
# start, a changed document within one interval, idle 304s on one kept
# connection, SIGUSR1, SIGHUP (interval, a broken file, a new source), an
# invalid document, cron sync and watch together, kill -9 and a new watcher,
# a second watcher (75), usage errors (2), SIGTERM and SIGINT (0, tunnels
# up), syslog, 1000 rounds with flat descriptors and RSS, and valgrind. TAP.
#
# "A fast interval": the shortest interval is 5 s, so 1000 timer rounds would
# take 83 minutes. The 1000 rounds are driven by SIGUSR1 instead, one after
# the other as fast as the watcher completes them; a SIGUSR1 round runs the
# same code as a timer round (fetch, converge, watch.json). The timer itself
# is proven at 5 s in the first part.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
loopback_fixture
DEV=edge-0042
INTERVAL=5
EX_USAGE=2 EX_LOCKED=75

# --- the config server (keeps connections open, as most servers do) ---------
ROOT=$WORK/www
mkdir -p "$ROOT"
HLOG=$WORK/httpd.log
python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$ROOT" --portfile "$WORK/httpd.port" \
	--logfile "$HLOG" --keep-alive >"$WORK/httpd.err" 2>&1 &
HPID=$!
at_exit "kill $HPID"
wait_for 5 test -s "$WORK/httpd.port" || skip_all "httpd.py did not start"
HPORT=$(cat "$WORK/httpd.port")
URL=http://127.0.0.1:$HPORT/cfg.json
URL2=http://127.0.0.1:$HPORT/cfg2.json
DOC=$ROOT/cfg.json
DOC2=$ROOT/cfg2.json

# gendoc FILE DEVICE [NAME:RPORT]...: a native document for DEVICE (written
# atomically); DEVICE "-": a document without this device.
gendoc() { native_doc "$@"; }
setmode() { if [ -n "$1" ]; then echo "$1" >"$DOC.mode"; else rm -f "$DOC.mode"; fi; }
settings() { printf '%s\n' "$@" >"$SETTINGS"; }

W_OUT=$WORK/watch.out
W_ERR=$WORK/watch.err
# watch_start [ARGS...]: tunnelctl -v watch in the background (WPID), its
# stdout and stderr in W_OUT and W_ERR (appended).
watch_start() {
	"$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" -v watch "$@" >>"$W_OUT" 2>>"$W_ERR" &
	WPID=$!
	at_exit "kill -9 $WPID"
}
# wfield FIELD: FIELD of status --json's watch object ("null" when there is none).
# (Not through the test's settings file, which is sometimes broken on purpose.)
wfield() {
	"$TC_BIN" --state-dir "$STATE" --settings /dev/null status --json 2>/dev/null | python3 -c '
import json, sys
w = json.load(sys.stdin)["watch"]
v = None if w is None else w.get(sys.argv[1])
print("null" if v is None else v)' "$1"
}
rounds() { sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$STATE/watch.json" 2>/dev/null; }
# round_done N: at least N rounds done
round_done() { [ "$(rounds)" -ge "$1" ] 2>/dev/null; }
# usr1: one SIGUSR1 round, awaited
usr1() {
	local r
	r=$(rounds)
	kill -USR1 "$WPID"
	wait_for 10 round_done $((r + 1))
}
pid_of() { jfield "$1" pid; }
port_is() { [ "$(jfield "$1" remote_port)" = "$2" ] && state_is "$1" up; }
reqs() { wc -l <"$HLOG"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
alive() { kill -0 "$WPID" 2>/dev/null; }
out_lines() { grep -c . "$W_OUT"; }

R1=$(free_port)
R2=$(free_port)
R3=$(free_port)
R4=$(free_port)

# --- usage and settings errors at start: exit 2, nothing started -------------
gendoc "$DOC" "$DEV" "web:$R1"
settings "source = $URL" "id = $DEV"
usage() { # usage DESC GREP ARGS...
	local desc=$1 why=$2 out rc
	shift 2
	out=$(timeout 10 "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" watch "$@" 2>&1)
	rc=$?
	is "$rc" "$EX_USAGE" "$desc: exit 2"
	check "$desc: says why ($out)" grep -qE -- "$why" <<<"$out"
}
usage "an operand" "unexpected argument 'now'" now
usage "--interval 4s (under the 5 s minimum)" "--interval: '4s' is shorter than 5 s" --interval 4s
usage "--interval soon" "--interval" --interval soon
usage "--splay (a sync option)" "--splay: not an option of watch" --splay 5
settings "source = $URL" "id = $DEV" "interval = 1s"
usage "interval = 1s in the settings" "interval: '1s' is shorter than 5 s"
settings "id = $DEV"
usage "no source" "no config source"
settings "source = $URL" "id = $DEV" "colour = red"
usage "an unknown settings key" "unknown key 'colour'"
settings "source = $URL" "id = $DEV" "mqtt_keepalive = 2"
usage "mqtt_keepalive = 2" "mqtt_keepalive"
check "no tunnel was started by any of them" test ! -e "$STATE/web"

# --- the source unreachable at start: logged, the loop goes on --------------
settings "source = $URL" "id = $DEV" "interval = ${INTERVAL}s"
setmode 503
watch_start
check "503 at start: the first round is done and recorded" wait_for 10 round_done 1
check "503 at start: the watcher keeps running" alive
is "$(wfield pid)" "$WPID" "status --json: watch.pid is the watcher"
is "$(wfield source)" "$URL (id $DEV)" "status --json: watch.source"
check "status --json: watch.last_check_at is an RFC 3339 time" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$(wfield last_check_at)"
is "$(wfield last_change_at)" null "status --json: watch.last_change_at null (nothing changed yet)"
check "status --json: watch.last_error says 503 ($(wfield last_error))" grep -q 503 <<<"$(wfield last_error)"
check "stderr: 'tunnelctl: watch: ... 503' ($(head -3 "$W_ERR" | tr '\n' ' '))" \
	grep -qE '^tunnelctl: watch: .*503' "$W_ERR"
check "nothing started" test ! -e "$STATE/web"
check "human status shows the watcher" sh -c "'$TC_BIN' --state-dir '$STATE' --settings '$SETTINGS' status | grep -q '^watch: pid $WPID, '"

# --- the server answers again: picked up within one interval -----------------
r0=$(rounds)
t0=$(date +%s%N)
setmode ""
check "the server back: web comes up" wait_for $((INTERVAL + 15)) port_is web "$R1"
ms=$(ms_since "$t0")
# The first timer round after the fix comes within interval + 10 % jitter.
check "within one interval (+10 %) and the ssh time: $ms ms" test "$ms" -le $((INTERVAL * 1100 + 3000))
is "$(fetch_token "$R1")" "$TOKEN" "traffic flows through the watched tunnel"
is "$(jfield web origin)" sync "origin sync (watch converges as sync does)"
is "$(wfield last_error)" null "the error is cleared by a good round"
check "last_change_at is set by the round that started web" test "$(wfield last_change_at)" != null
is "$(cat "$W_OUT")" "web: started (not running)" "stdout: sync's line for the started tunnel, nothing else"
P1=$(pid_of web)

# --- a changed document: within one interval, by the timer --------------------
t0=$(date +%s%N)
gendoc "$DOC" "$DEV" "web:$R2"
check "changed document: web restarted on its new port" wait_for $((INTERVAL + 15)) port_is web "$R2"
ms=$(ms_since "$t0")
check "within one interval (+10 %) and the ssh time: $ms ms" test "$ms" -le $((INTERVAL * 1100 + 3000))
check "old port closed" wait_port_closed 127.0.0.1 "$R1" 10
check "stdout: 'web: restarted (...)'" grep -qE '^web: restarted \(.+\)$' "$W_OUT"
P2=$(pid_of web)
check "a new supervisor" test "$P2" != "$P1"

# --- idle rounds: 304s on the one kept connection, nothing printed -----------
n0=$(reqs)
lines=$(out_lines)
usr1
usr1
check "two more rounds at once on SIGUSR1" test "$(($(reqs) - n0))" -ge 2
idle=$(tail -n +"$((n0 + 1))" "$HLOG")
check "idle rounds: conditional GETs answered 304" sh -c "! printf '%s\n' '$idle' | grep -v '\"status\": 304'"
conns=$(sed -n 's/.*"conn": \([0-9]*\).*/\1/p' "$HLOG" | tail -n +2 | sort -u | wc -l)
is "$conns" 1 "every poll after the first change reused one HTTP connection"
is "$(out_lines)" "$lines" "idle rounds print nothing (no 'unchanged' lines)"
is "$(pid_of web)" "$P2" "idle rounds leave the supervisor alone"

# --- SIGHUP: the settings read again (interval 1h), SIGUSR1 polls at once ------
settings "source = $URL" "id = $DEV" "interval = 1h"
r0=$(rounds)
kill -HUP "$WPID"
check "SIGHUP: a round follows the reread" wait_for 10 round_done $((r0 + 1))
check "SIGHUP: logged 'settings read again'" grep -q 'watch: SIGHUP: settings read again' "$W_ERR"
gendoc "$DOC" "$DEV" "web:$R3"
sleep $((INTERVAL + 2))
is "$(jfield web remote_port)" "$R2" "interval now 1 h: no poll $((INTERVAL + 2)) s after a change"
t0=$(date +%s%N)
kill -USR1 "$WPID"
check "SIGUSR1: polled at once, web on its new port" wait_for 15 port_is web "$R3"
diag "SIGUSR1 to up: $(ms_since "$t0") ms"

# A broken settings file: logged, the settings read before are kept.
settings "source = $URL2" "id = $DEV" "interval = 1h" "colour = red"
r0=$(rounds)
kill -HUP "$WPID"
wait_for 10 round_done $((r0 + 1))
check "SIGHUP with a broken file: logged with the line" grep -q "watch: settings $SETTINGS:4: unknown key 'colour'" "$W_ERR"
check "SIGHUP with a broken file: 'keeping the settings read before'" \
	grep -q 'watch: SIGHUP: keeping the settings read before' "$W_ERR"
check "still running" alive
is "$(wfield source)" "$URL (id $DEV)" "the old source is kept"
check "status --json: watch.last_error says the SIGHUP was refused ($(wfield last_error))" \
	grep -q "^SIGHUP: settings $SETTINGS:4: unknown key 'colour' (the settings read before are in use)" <<<"$(wfield last_error)"
settings "source = $URL2" "id = $DEV" "interval = 2s"
kill -HUP "$WPID"
check "SIGHUP with interval = 2s: logged" wait_for 10 grep -q "watch: .*interval: '2s' is shorter than 5 s" "$W_ERR"
check "still running" alive
is "$(wfield source)" "$URL (id $DEV)" "the old source is kept (nothing of a bad file is taken)"
gendoc "$DOC" "$DEV" "web:$R2"
usr1
check "the old source still polled: web back on $R2" wait_for 15 port_is web "$R2"

# A new source by SIGHUP: picked up at once.
gendoc "$DOC2" "$DEV" "api:$R4"
settings "source = $URL2" "id = $DEV" "interval = 1h"
kill -HUP "$WPID"
check "SIGHUP with a new source: api started from it" wait_for 15 port_is api "$R4"
check "and web, not in it, stopped" wait_for 10 test ! -e "$STATE/web"
is "$(wfield source)" "$URL2 (id $DEV)" "status shows the new source"
check "stdout: 'api: started' and 'web: stopped'" \
	sh -c "grep -q '^api: started' '$W_OUT' && grep -q '^web: stopped' '$W_OUT'"
settings "source = $URL" "id = $DEV" "interval = 1h"
kill -HUP "$WPID"
check "back to the first source: web started again" wait_for 15 port_is web "$R2"
check "api stopped" wait_for 10 test ! -e "$STATE/api"
is "$(wfield last_error)" null "a SIGHUP taken clears the refused one's error"

# --- an invalid document: logged, nothing changes ----------------------------
P=$(pid_of web)
lines=$(out_lines)
cp "$DOC" "$WORK/good.json"
printf '{"version": 1, "devices": {"%s": {"tunnels": [{"name": "web"}]}}}\n' "$DEV" >"$DOC"
usr1
check "invalid: watch.last_error names the field ($(wfield last_error))" \
	grep -q 'devices.edge-0042.tunnels\[0\]' <<<"$(wfield last_error)"
check "invalid: logged on stderr" grep -qE '^tunnelctl: watch: .*devices.edge-0042.tunnels\[0\]' "$W_ERR"
is "$(pid_of web)" "$P" "invalid: web untouched (same supervisor)"
is "$(out_lines)" "$lines" "invalid: nothing printed on stdout"
check "invalid: the watcher goes on" alive
printf 'not json' >"$DOC"
usr1
check "malformed JSON: logged, watcher alive, web untouched" \
	sh -c "[ '$(pid_of web)' = '$P' ] && kill -0 $WPID"
cp "$WORK/good.json" "$DOC"
usr1
is "$(wfield last_error)" null "a good document again: no error"

# --- cron sync and watch together keep one tunnel -----------------------------
sync_() { tc sync --source "$URL" --id "$DEV" "$@"; }
pids=()
for i in 1 2 3 4 5; do
	sync_ >"$WORK/cron$i" 2>&1 &
	pids+=($!)
	kill -USR1 "$WPID"
done
codes=
for p in "${pids[@]}"; do wait "$p"; codes="$codes$?"; done
usr1
is "$codes" 00000 "five cron syncs beside the watcher's rounds all exit 0"
is "$(supervisors web)" 1 "one supervisor for web"
is "$(pid_of web)" "$P" "and it is the one from before (nobody restarted it)"
# cron applies a change first; the watcher then finds it done
gendoc "$DOC" "$DEV" "web:$R1"
lines=$(out_lines)
OUT=$(sync_ 2>&1)
check "cron sync applies the change ($OUT)" grep -q '^web: restarted' <<<"$OUT"
usr1
is "$(out_lines)" "$lines" "the watcher's next round finds nothing to do"
check "web up on the new port" wait_for 15 port_is web "$R1"
is "$(supervisors web)" 1 "still one supervisor for web"
gendoc "$DOC" "$DEV" "web:$R2"
lines=$(out_lines)
usr1
OUT=$(sync_ 2>&1)
check "the other way round: watch restarts, cron finds it unchanged ($OUT)" grep -q '^web: unchanged' <<<"$OUT"
is "$(supervisors web)" 1 "still one supervisor for web"
check "web up on $R2" wait_for 15 port_is web "$R2"

# --- a second watcher on the same state dir: 75 at once ----------------------
t0=$(date +%s%N)
out=$("$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" watch 2>&1)
rc=$?
is "$rc" "$EX_LOCKED" "a second watcher exits 75"
check "and leaves the first one's watch.json alone" test -s "$STATE/watch.json"
check "in under 2 s ($(ms_since "$t0") ms)" test "$(ms_since "$t0")" -lt 2000
check "it names the running one ($out)" grep -q "another watch runs for $STATE (pid $WPID)" <<<"$out"
check "the first one goes on" alive

# --- 1000 rounds: descriptors and RSS flat ------------------------------------
fds() { ls "/proc/$WPID/fd" | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$WPID/status"; }
# rounds_driver N: N SIGUSR1 rounds, each awaited before the next
rounds_driver() {
	python3 - "$WPID" "$STATE/watch.json" "$1" <<'EOF'
import json, os, signal, sys, time
pid, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def rounds():
    end = time.monotonic() + 10
    while True:
        try:
            with open(path) as f:
                return json.load(f)["rounds"]
        except (OSError, ValueError, KeyError) as e:
            if time.monotonic() > end:
                sys.exit("%s: %s" % (path, e))
            time.sleep(0.001)
r = rounds()
for i in range(n):
    os.kill(pid, signal.SIGUSR1)
    end = time.monotonic() + 10
    while rounds() <= r:
        if time.monotonic() > end:
            sys.exit("round %d of %d did not come" % (i + 1, n))
        time.sleep(0.0005)
    r = rounds()
EOF
}
P=$(pid_of web)
n0=$(reqs)
t0=$(date +%s%N)
rounds_driver 10
fd10=$(fds)
rss10=$(rss)
check "990 more rounds" rounds_driver 990
fd1000=$(fds)
rss1000=$(rss)
diag "1000 rounds in $(ms_since "$t0") ms; after 10: $fd10 fds, VmRSS $rss10 kB; after 1000: $fd1000 fds, VmRSS $rss1000 kB"
is "$fd1000" "$fd10" "1000 rounds: as many descriptors as after the first 10"
rss_flat "1000 rounds: VmRSS within 64 kB of the value after the first 10" "$rss10" "$rss1000"
is "$(tail -n +"$((n0 + 1))" "$HLOG" | grep -vc '"status": 304')" 0 "1000 rounds: every one a 304"
is "$(pid_of web)" "$P" "1000 rounds: web kept its supervisor"
is "$(supervisors web)" 1 "one supervisor for web"
check "no temporary file left in the state dir" test -z "$(find "$STATE" -name '.*.tmp*')"

# --- kill -9: tunnels stay up; a new watcher converges ----------------------
P=$(pid_of web)
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
is "$(jfield web pid)" "$P" "kill -9 of the watcher: web's supervisor untouched"
check "web still up" sh -c "'$TC_BIN' --state-dir '$STATE' --settings '$SETTINGS' status web >/dev/null"
is "$(fetch_token "$R2")" "$TOKEN" "and carrying traffic"
is "$(wfield pid)" null "status --json: watch null (watch.json names a dead process)"
gendoc "$DOC" "$DEV" "web:$R2" "db:$R3"
: >"$W_OUT"
watch_start --json
check "a new watcher starts (no 75: no lock was left to a child)" wait_for 10 round_done 1
check "it converges: db started" wait_for 15 port_is db "$R3"
is "$(pid_of web)" "$P" "web unchanged"
is "$(supervisors web):$(supervisors db)" "1:1" "one supervisor each"
is "$(python3 -c 'import json, sys; d = json.loads(sys.stdin.readline()); print(d["started"], d["unchanged"], sorted(d))' <"$W_OUT")" \
	"['db'] [] ['expired', 'restarted', 'revoked', 'started', 'stopped', 'unchanged']" \
	"--json: one object per round, only the changes (db started; web not listed)"
is "$(wc -l <"$W_OUT")" 1 "--json: one line"

# --- SIGTERM and SIGINT: exit 0, every tunnel still up ------------------------
kill -TERM "$WPID"
t0=$(date +%s%N)
wait "$WPID"
is "$?" 0 "SIGTERM: exit 0"
check "SIGTERM: ended within 2 s" test "$(ms_since "$t0")" -lt 2000
check "web and db still up" sh -c "'$TC_BIN' --state-dir '$STATE' --settings '$SETTINGS' status web db >/dev/null"
is "$(supervisors web):$(supervisors db)" "1:1" "their supervisors still run"
check "watch.json removed" test ! -e "$STATE/watch.json"
is "$(wfield pid)" null "status --json: watch null"
watch_start
wait_for 10 round_done 1
kill -INT "$WPID"
wait "$WPID"
is "$?" 0 "SIGINT: exit 0"
check "web and db still up after SIGINT" sh -c "'$TC_BIN' --state-dir '$STATE' --settings '$SETTINGS' status web db >/dev/null"

# --- errors reach syslog when stderr is not a terminal --------------------------
if syslog_ok; then
	SL=$WORK/sl
	mkdir -p "$SL"
	CLOSED=$(free_port)
	syslog_run "$SL" 0 timeout --preserve-status -s TERM 3 "$TC_BIN" --state-dir "$WORK/slstate" --settings /dev/null \
		watch --source "http://127.0.0.1:$CLOSED/x.json" --id "$DEV"
	is "$(cat "$SL/rc")" 0 "syslog run: SIGTERM after 3 s, exit 0"
	# <27>: LOG_DAEMON | LOG_ERR
	check "syslog: the failed fetch as an error, with the reason ($(grep '^<27>' "$SL/syslog" | head -1))" \
		grep -qE "^<27>.*tunnelctl\[[0-9]+\]: watch: .*127.0.0.1:$CLOSED.*(refused|connect)" "$SL/syslog"
	check "stderr: the same line" grep -qE "^tunnelctl: watch: .*127.0.0.1:$CLOSED" "$SL/stderr"
else
	skip "syslog: needs root and mount namespaces"
fi

# --- valgrind: a shorter run over every kind of round --------------------------
if ! command -v valgrind >/dev/null; then
	skip "valgrind not installed"
elif [ -n "${TC_SANITIZED:-}" ]; then
	skip "sanitizer build: valgrind does not mix with ASan"
else
	VGLOG=$WORK/vg
	mkdir -p "$VGLOG"
	settings "source = $URL" "id = $DEV" "interval = 1h"
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes \
		--child-silent-after-fork=yes --log-file="$VGLOG/vg.%p" \
		"$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" watch >"$WORK/vg.out" 2>"$WORK/vg.err" &
	WPID=$!
	at_exit "kill -9 $WPID"
	check "valgrind: the watcher's first round" wait_for 60 round_done 1
	for i in 1 2 3; do usr1; done
	gendoc "$DOC" "$DEV" "web:$R1"
	usr1
	check "valgrind: a restart through the watcher" wait_for 30 port_is web "$R1"
	printf 'not json' >"$DOC"
	usr1
	setmode 500
	usr1
	setmode ""
	gendoc "$DOC" "$DEV" "web:$R1"
	r0=$(rounds)
	kill -HUP "$WPID"
	wait_for 30 round_done $((r0 + 1))
	gendoc "$DOC" -
	usr1
	check "valgrind: no entry: web and db stopped" wait_for 30 sh -c "[ ! -e '$STATE/web' ] && [ ! -e '$STATE/db' ]"
	kill -TERM "$WPID"
	wait "$WPID"
	vrc=$?
	is "$vrc" 0 "valgrind: no errors or leaks over start, idle, restart, invalid, 500, SIGHUP, stop (exit 0, not 99)"
	own=$(python3 - "$VGLOG/vg.$WPID" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
own = [l for i, l in enumerate(lines) if re.search(r"Open (file descriptor|AF_\w+ socket) \d+", l)
       and "inherited from parent" not in (lines[i + 1] if i + 1 < len(lines) else "")
       and not re.search(r"descriptor [012]:", l)]
print("\n".join(own))
PY
)
	is "$own" "" "valgrind: no descriptor of its own left open at exit"
	[ "$vrc" = 0 ] || diag "$(head -40 "$VGLOG/vg.$WPID")"
fi

done_testing
