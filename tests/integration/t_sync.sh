#!/bin/bash
# t_sync.sh: `tunnelctl sync` end to end with the native schema (issue 3):
# a config server on loopback (tests/helpers/httpd.py), a real sshd and
# autossh; every row of "sync semantics", faults, overlapping runs, settings.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
loopback_fixture
DEV=edge-0042

# --- the config server ------------------------------------------------------
ROOT=$WORK/www
mkdir -p "$ROOT"
HLOG=$WORK/httpd.log
python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$ROOT" --portfile "$WORK/httpd.port" \
	--logfile "$HLOG" >"$WORK/httpd.err" 2>&1 &
HPID=$!
at_exit "kill $HPID"
wait_for 5 test -s "$WORK/httpd.port" || skip_all "httpd.py did not start"
HPORT=$(cat "$WORK/httpd.port")
URL=http://127.0.0.1:$HPORT/cfg.json
DOC=$ROOT/cfg.json

# gendoc DEVICE [NAME:RPORT[:OPT,...]]...: write the native document for DEVICE
# to $DOC (atomically). OPTs: b64 (key as base64 of the PEM), timeout=D,
# rport raw (e.g. 70000), bind=ADDR. DEVICE "-" writes a document for another
# device only.
gendoc() { native_doc "$DOC" "$@"; }
setmode() { if [ -n "$1" ]; then echo "$1" >"$DOC.mode"; else rm -f "$DOC.mode"; fi; }

sync_() { tc sync --source "$URL" --id "$DEV" "$@"; }
# run_sync [ARGS]: sets OUT (stdout), ERR (stderr), RC.
run_sync() {
	OUT=$(sync_ "$@" 2>"$WORK/err"); RC=$?
	ERR=$(cat "$WORK/err")
}
has_line() { printf '%s\n' "$OUT" | grep -qE "$1"; }
pid_of() { jfield "$1" pid; }
reqs() { wc -l <"$HLOG"; }
# log_since N: the request log lines after the first N.
log_since() { tail -n +"$(($1 + 1))" "$HLOG"; }

R1=$(free_port)
R2=$(free_port)
R3=$(free_port)

# --- first sync: started, up, origin sync, traffic ----------------------------
gendoc "$DEV" "web:$R1"
run_sync
is "$RC" 0 "first sync exits 0"
check "first sync prints 'web: started (...)' (${OUT//$'\n'/; })" has_line '^web: started \(.+\)$'
check "web comes up" wait_for 15 state_is web up
is "$(jfield web origin)" sync "origin is sync"
is "$(fetch_token "$R1")" "$TOKEN" "traffic flows through the synced tunnel"
P1=$(pid_of web)
# the cached document holds private keys: private to root
check "fetch cache dir is 0700" [ "$(stat -c %a "$STATE/.fetch")" = 700 ]
check "every cached file is 0600" sh -c "[ -z \"\$(find $STATE/.fetch -type f ! -perm 600)\" ] && [ -n \"\$(find $STATE/.fetch -type f)\" ]"

# --- idle second sync: unchanged, same supervisor, conditional GET answered 304 -
n0=$(reqs)
run_sync
is "$RC" 0 "idle sync exits 0"
check "idle sync says unchanged (${OUT//$'\n'/; })" has_line '^web: unchanged \(.+\)$'
is "$(pid_of web)" "$P1" "idle sync: supervisor PID unchanged"
last=$(log_since "$n0")
check "idle sync sent If-None-Match" sh -c "printf '%s\n' '$last' | grep -q '\"if_none_match\": \"\\\\\"'"
check "idle sync got a 304" sh -c "printf '%s\n' '$last' | grep -q '\"status\": 304'"
is "$(printf '%s\n' "$last" | wc -l)" 1 "idle sync made exactly one request"

# --- changed document: restarted, new port works, old one closed -------------
gendoc "$DEV" "web:$R2"
run_sync
is "$RC" 0 "sync after a change exits 0"
check "changed spec: restarted (${OUT//$'\n'/; })" has_line '^web: restarted \(.+\)$'
check "web up again" wait_for 15 state_is web up
is "$(jfield web remote_port)" "$R2" "status shows the new remote port"
check "new remote port carries traffic" wait_for 10 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$R2/token)\" = $TOKEN ]"
check "old remote port closed" wait_port_closed 127.0.0.1 "$R1" 10
check "new supervisor" [ "$(pid_of web)" != "$P1" ]
check "old supervisor gone" wait_for 5 sh -c "! kill -0 $P1 2>/dev/null"
P1=$(pid_of web)

# --- a second tunnel (key as base64 of the PEM): started, first unchanged ----
gendoc "$DEV" "web:$R2" "db:$R3:b64"
run_sync
is "$RC" 0 "sync adding a tunnel exits 0"
check "db started (${OUT//$'\n'/; })" has_line '^db: started \(.+\)$'
check "web unchanged" has_line '^web: unchanged \(.+\)$'
is "$(printf '%s\n' "$OUT" | head -1 | cut -d: -f1)" web "lines in document order"
check "db (base64 key) comes up" wait_for 15 state_is db up
is "$(fetch_token "$R3")" "$TOKEN" "db carries traffic"
is "$(pid_of web)" "$P1" "web's supervisor untouched"
gendoc "$DEV" "web:$R2:b64" "db:$R3:b64"
run_sync
check "the same key as base64 instead of PEM: unchanged (${OUT//$'\n'/; })" has_line '^web: unchanged'
is "$(pid_of web)" "$P1" "key spelling change: web's supervisor untouched"

# --- a hand-started tunnel is never touched by sync -------------------------
RH=$(free_port)
tc start hand --server "root@127.0.0.1:$SPORT" --remote-port "$RH" --target "127.0.0.1:$TPORT" \
	--key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" >/dev/null 2>&1
check "hand tunnel up" wait_for 15 state_is hand up
PH=$(pid_of hand)

# --- remove one: stopped ------------------------------------------------------
gendoc "$DEV" "db:$R3:b64"
run_sync
is "$RC" 0 "sync removing a tunnel exits 0"
check "web stopped (${OUT//$'\n'/; })" has_line '^web: stopped \(.+\)$'
check "db unchanged" has_line '^db: unchanged'
check "hand not mentioned" sh -c "! printf '%s\n' '$OUT' | grep -q '^hand'"
check "web's state is gone" [ ! -e "$STATE/web" ]
check "web's remote port closed" wait_port_closed 127.0.0.1 "$R2" 10
is "$(pid_of hand)" "$PH" "hand tunnel untouched (same PID)"
is "$(jfield hand state)" up "hand tunnel still up"

# --- a hand tunnel whose name is in the document: left alone ----------------
gendoc "$DEV" "db:$R3:b64" "hand:$R1"
run_sync
is "$RC" 0 "sync naming a hand tunnel exits 0"
check "hand tunnel reported unchanged (${OUT//$'\n'/; })" has_line '^hand: unchanged \(.+hand.*\)$'
is "$(pid_of hand)" "$PH" "hand tunnel not restarted with the document's spec"
is "$(jfield hand origin)" start "hand tunnel keeps origin start"
is "$(jfield hand remote_port)" "$RH" "hand tunnel keeps its own spec"
gendoc "$DEV" "db:$R3:b64"
sync_ >/dev/null 2>&1

# --- --json: exactly the six arrays ------------------------------------------
run_sync --json
is "$RC" 0 "sync --json exits 0"
keys=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(sorted(d)), all(isinstance(v, list) for v in d.values()), d["unchanged"])' 2>&1)
is "$keys" "expired,restarted,revoked,started,stopped,unchanged True ['db']" "--json has exactly the six arrays"
run_sync --json -q
is "$RC:$OUT" "0:" "--json -q: nothing printed on success"
run_sync -q
is "$RC:$OUT" "0:" "-q: nothing printed on success"

# --- faults: nothing changes, non-zero exit with a reason ---------------------
PD=$(pid_of db)
survives() { [ "$(pid_of db)" = "$PD" ] && [ "$(pid_of hand)" = "$PH" ] && state_is db up && [ -d "$STATE/db" ]; }
fault() { # fault DESC WANT_RC GREP_REASON [ARGS]
	local desc=$1 want=$2 why=$3
	shift 3
	run_sync "$@"
	is "$RC" "$want" "$desc: exit $want"
	check "$desc: message says why ($ERR)" sh -c "printf '%s\n' \"\$1\" | grep -qiE -- \"\$2\"" _ "$ERR" "$why"
	check "$desc: stdout empty" [ -z "$OUT" ]
	check "$desc: running tunnels survive" survives
}
setmode empty
fault "empty body" 65 "empty"
setmode 500
fault "HTTP 500" 69 "500"
setmode truncate
fault "truncated body" 69 "truncat|partial|transfer|closed"
setmode 404
fault "HTTP 404" 69 "404"
# a captive portal's page means the document was not reached: a fetch failure
setmode html
fault "captive portal html" 69 "html|portal"
setmode big
fault "body over 1 MiB" 69 "1 MiB|large|size|cap"
setmode ""
cp "$DOC" "$WORK/good.json"
printf '{"version": 1, "devices": {"%s": {"tunnels": [' "$DEV" >"$DOC"
fault "malformed JSON" 65 "json|document"
cp "$WORK/good.json" "$DOC"
python3 - "$DOC" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["devices"]["edge-0042"]["tunnels"][0]["remote"]["port"] = 70000
json.dump(d, open(sys.argv[1], "w"))
EOF
fault "remote.port 70000" 65 "devices\.edge-0042\.tunnels\[0\]\.remote\.port|/devices/edge-0042/tunnels/0/remote/port|tunnels\[0\]\.remote\.port"
python3 - "$DOC" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["devices"]["edge-0042"]["tunnels"][0]["remote"]["port"] = 8080
d["devices"]["edge-0042"]["tunnels"][0]["colour"] = "red"
json.dump(d, open(sys.argv[1], "w"))
EOF
fault "unknown key" 65 "colour"
cp "$WORK/good.json" "$DOC"
setmode "hang 60"
t0=$SECONDS
fault "server hangs" 69 "time|out|slow"
check "hang gives up within 35 s ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -le 35 ]
setmode ""
CLOSED=$(free_port)
fault "connection refused" 69 "refused|connect" --source "http://127.0.0.1:$CLOSED/cfg.json"
fault "missing file:// source" 69 "no such|not found|cannot|open" --source "file://$WORK/nope.json"
run_sync
is "$RC" 0 "after the faults, a good document syncs again"
check "db unchanged after the faults (${OUT//$'\n'/; })" has_line '^db: unchanged'
is "$(pid_of db)" "$PD" "db kept its supervisor through every fault"

# --- file:// and plain path sources read the same document --------------------
run_sync --source "file://$DOC"
is "$RC:$(printf '%s' "$OUT" | cut -d' ' -f1,2)" "0:db: unchanged" "file:// source"
run_sync --source "$DOC"
is "$RC:$(printf '%s' "$OUT" | cut -d' ' -f1,2)" "0:db: unchanged" "plain path source"
# a copy without a validator is useless (no 304 can come) and holds keys
fkey=$(printf '%s' "file://$DOC" | sha256sum | cut -c1-16)
pkey=$(printf '%s' "$DOC" | sha256sum | cut -c1-16)
check "file:// and plain path sources leave no cached copy" sh -c "[ ! -e $STATE/.fetch/$fkey.body ] && [ ! -e $STATE/.fetch/$pkey.body ]"
ukey=$(printf '%s' "$URL" | sha256sum | cut -c1-16)
setmode noetag
run_sync
is "$RC" 0 "server without validators: exit 0"
check "server without validators: no cached copy kept" [ ! -e "$STATE/.fetch/$ukey.body" ]
n0=$(reqs)
run_sync
check "and the next fetch is unconditional" sh -c "tail -n +$((n0 + 1)) $HLOG | grep -q '\"if_modified_since\": null, \"if_none_match\": null'"
setmode ""

# --- no entry for this device: every sync tunnel stopped, hand ones kept -----
gendoc "$DEV" "db:$R3:b64" "web:$R2"
sync_ >/dev/null 2>&1
check "web back" wait_for 15 state_is web up
gendoc -
run_sync
is "$RC" 0 "document without this device: exit 0"
check "db stopped (${OUT//$'\n'/; })" has_line '^db: stopped \(.*device.*\)$'
check "the reason quotes the id looked up" has_line "^db: stopped \\(no entry for device '$DEV' in the document\\)\$"
check "web stopped" has_line '^web: stopped \(.*device.*\)$'
check "no sync tunnel left" [ ! -e "$STATE/db" -a ! -e "$STATE/web" ]
check "db's remote port closed" wait_port_closed 127.0.0.1 "$R3" 10
is "$(pid_of hand)" "$PH" "hand tunnel survives a document without this device"
run_sync
is "$RC:$OUT" "0:" "again: nothing to do, nothing printed"

# --- expired: stays expired while the spec is unchanged ----------------------
R4=$(free_port)
gendoc "$DEV" "brief:$R4:timeout=3s"
run_sync
check "brief started (${OUT//$'\n'/; })" has_line '^brief: started'
check "brief up" wait_for 15 state_is brief up
check "brief expires" wait_for 15 state_is brief expired
run_sync
is "$RC" 0 "sync with an expired tunnel exits 0"
check "expired tunnel reported expired (${OUT//$'\n'/; })" has_line '^brief: expired \(.+\)$'
is "$(jfield brief state)" expired "still expired after sync"
run_sync --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["expired"])' 2>&1)" "['brief']" "--json lists it under expired"
run_sync
check "still expired on the next sync" has_line '^brief: expired'
check "remote port stays closed" wait_port_closed 127.0.0.1 "$R4" 3
gendoc "$DEV" "brief:$R4:timeout=1h"
run_sync
check "spec changed: expired tunnel started again (${OUT//$'\n'/; })" has_line '^brief: started'
check "brief up again" wait_for 15 state_is brief up
is "$(fetch_token "$R4")" "$TOKEN" "brief carries traffic again"

# --- a dead supervisor (kill -9) with the same spec: started again ------------
PB=$(pid_of brief)
kill -9 "$PB"
check "brief's remote port freed after kill -9" wait_port_closed 127.0.0.1 "$R4" 10
run_sync
is "$RC" 0 "sync after a supervisor died exits 0"
check "dead tunnel started again (${OUT//$'\n'/; })" has_line '^brief: started \(.+\)$'
check "brief up after the restart" wait_for 15 state_is brief up
check "a new supervisor" [ "$(pid_of brief)" != "$PB" ]
is "$(supervisors brief)" 1 "one supervisor for brief"

# --- no ETag: If-Modified-Since, 304 ------------------------------------------
setmode lastmod
sync_ >/dev/null 2>&1
n0=$(reqs)
run_sync
last=$(log_since "$n0")
check "without ETag: If-Modified-Since sent" sh -c "printf '%s\n' '$last' | grep -q '\"if_modified_since\": \"[A-Z]'"
check "without ETag: 304 answered, brief unchanged" sh -c "printf '%s\n' '$last' | grep -q '\"status\": 304' && [ '$RC' = 0 ]"
check "without ETag: unchanged" has_line '^brief: unchanged'
setmode ""

# --- overlapping runs: one consistent result -----------------------------------
gendoc -
sync_ >/dev/null 2>&1
R5=$(free_port)
R6=$(free_port)
gendoc "$DEV" "pa:$R5" "pb:$R6"
sync_ >"$WORK/o1" 2>&1 & a=$!
sync_ >"$WORK/o2" 2>&1 & b=$!
wait $a; ra=$?
wait $b; rb=$?
is "$ra:$rb" "0:0" "two syncs at once both exit 0"
is "$(cat "$WORK/o1" "$WORK/o2" | grep -c ': started')" 2 "between them each tunnel started exactly once"
is "$(cat "$WORK/o1" "$WORK/o2" | grep -c ': unchanged')" 2 "and the other run found them unchanged"
is "$(supervisors pa):$(supervisors pb)" "1:1" "exactly one supervisor per tunnel"
# ten at once, from nothing
gendoc -
sync_ >/dev/null 2>&1
R7=$(free_port)
gendoc "$DEV" "pa:$R5" "pb:$R6" "pc:$R7"
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	sync_ >"$WORK/p$i" 2>&1 &
	pids+=($!)
done
codes=""
for p in "${pids[@]}"; do wait "$p"; codes="$codes$?"; done
is "$codes" 0000000000 "ten syncs at once all exit 0"
is "$(cat "$WORK"/p[0-9] | grep -c ': started')" 3 "ten syncs: three starts in all"
is "$(supervisors pa):$(supervisors pb):$(supervisors pc)" "1:1:1" "ten syncs: exactly one supervisor per tunnel"
for n in pa pb pc; do
	check "$n up" wait_for 15 state_is "$n" up
done
sup=$(pid_of pa)
is "$(pgrep -s "$sup" -x ssh | wc -l)" 1 "one ssh in pa's session"
bad=0
for f in "$STATE"/*/spec.json "$STATE"/*/run.json; do
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null || bad=$((bad + 1))
done
is "$bad" 0 "every spec.json/run.json is whole JSON"
is "$(find "$STATE" -name '.*.tmp.*' | wc -l)" 0 "no half-written temporary files left"
# with --wait 0 a run that finds the lock held gives up with 75
gendoc "$DEV" "pa:$R5" "pb:$R6"
pids=()
for i in 0 1 2 3 4 5; do
	sync_ --wait 0 >"$WORK/w$i" 2>&1 &
	pids+=($!)
done
codes=""
for p in "${pids[@]}"; do wait "$p"; codes="$codes $?"; done
check "--wait 0: every run exits 0 or 75 ($codes)" sh -c "! echo '$codes' | tr ' ' '\n' | grep -qvE '^(0|75|)$'"
is "$(cat "$WORK"/w[0-9] | grep -c '^pc: stopped')" 1 "--wait 0: pc stopped exactly once"
if echo "$codes" | grep -q 75; then
	check "--wait 0: a 75 says the lock is held" sh -c "grep -qiE 'lock|busy|another' $WORK/w*"
else
	skip "--wait 0: no run happened to find the lock held"
fi
is "$(supervisors pa):$(supervisors pb):$(supervisors pc)" "1:1:0" "--wait 0: consistent supervisors"

# --- --splay ------------------------------------------------------------------
t0=$(date +%s.%N)
run_sync --splay 2
t1=$(date +%s.%N)
is "$RC" 0 "--splay 2 exits 0"
check "--splay 2 sleeps at most ~2 s" python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 2.9 else 1)"
run_sync --splay nope
is "$RC" 2 "--splay nope is a usage error"
run_sync --splay 0
is "$RC" 0 "--splay 0 is fine"

# --- settings file: source and id without flags; flags win --------------------
printf 'source = %s\nid = %s\n' "$URL" "$DEV" >"$SETTINGS"
OUT=$(tc sync 2>&1); RC=$?
is "$RC" 0 "sync with source/id from the settings file"
check "settings sync sees the tunnels (${OUT//$'\n'/; })" sh -c "printf '%s\n' '$OUT' | grep -q '^pa: unchanged'"
printf 'source = http://127.0.0.1:%s/nope.json\nid = edge-9999\n' "$CLOSED" >"$SETTINGS"
run_sync
is "$RC" 0 "flags win over the settings file"
check "flags' document used (${OUT//$'\n'/; })" has_line '^pa: unchanged'
# man page: a source flag replaces source/id/soracom of the file as a whole
OUT=$(tc sync --id "$DEV" 2>&1); RC=$?
is "$RC" 2 "--id alone replaces the file's source group: no source, usage error"
printf 'soracom = http://127.0.0.1:%s\n' "$CLOSED" >"$SETTINGS"
run_sync
check "--source/--id win over soracom in the file ($RC: ${OUT//$'\n'/; })" sh -c "[ $RC = 0 ] && printf '%s\n' '$OUT' | grep -q '^pa: unchanged'"
printf 'source = %s\nid = %s\nsplay = 0\n' "$URL" "$DEV" >"$SETTINGS"
OUT=$(tc sync 2>&1); RC=$?
is "$RC" 0 "splay = 0 in the settings file"
: >"$SETTINGS"
OUT=$(tc sync 2>&1); RC=$?
is "$RC" 2 "no source anywhere: usage error"
OUT=$(tc sync --source "$URL" 2>&1); RC=$?
is "$RC" 2 "--source without --id: usage error"

# --- start NAME --source --id: one tunnel from the document, origin start ----
gendoc "$DEV" "pa:$R5" "pb:$R6" "one:$R1"
OUT=$(tc start one --source "$URL" --id "$DEV" 2>&1); RC=$?
is "$RC" 0 "start NAME --source --id exits 0"
is "$OUT" "one: started" "start from the document says started"
check "one up" wait_for 15 state_is one up
is "$(jfield one origin)" start "started from the document by hand: origin start"
is "$(fetch_token "$R1")" "$TOKEN" "one carries traffic"
OUT=$(tc start nosuch --source "$URL" --id "$DEV" 2>&1); RC=$?
is "$RC" 65 "start of a name not in the document: 65"
gendoc "$DEV" "pa:$R5" "pb:$R6"
run_sync
check "sync leaves the document-started hand tunnel alone (${OUT//$'\n'/; })" sh -c "! printf '%s\n' '$OUT' | grep -q '^one'"
check "one still up" state_is one up

# --- the session that ran sync vanishes: the work is still done ---------------
R8=$(free_port)
R9=$(free_port)
gendoc "$DEV" "pa:$R5" "pb:$R6" "hup:$R8"
setsid "$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" sync --source "$URL" --id "$DEV" \
	--splay 1 >/dev/null 2>&1 </dev/null &
sp=$!
sleep 0.3
kill -HUP -- -"$sp" 2>/dev/null
wait "$sp"
is "$?" 0 "sync survives SIGHUP to its process group and exits 0"
check "hup tunnel started anyway" wait_for 15 state_is hup up
gendoc "$DEV" "pa:$R5" "pb:$R6" "hup:$R8" "pipe:$R9"
sync_ >&- 2>&-
is "$?" 0 "sync with stdout and stderr closed exits 0"
check "pipe tunnel started with stdout closed" wait_for 15 state_is pipe up
# cron-like callers may start it with stdin and stdout closed: the output must
# not land in whatever file the tool opens first (e.g. STATE/.lock)
sync_ --json <&- >&-
is "$?" 0 "sync with stdin and stdout closed exits 0"
check "nothing of its output was written into a state file" sh -c "! grep -rqs '\"started\"' $STATE"
gendoc "$DEV" "pa:$R5" "pb:$R6"
sync_ | (exec 0<&-; true)
check "sync into a closed pipe still stops what it must" wait_for 5 sh -c "[ ! -e $STATE/hup ] && [ ! -e $STATE/pipe ]"

# --- stop --all leaves nothing behind -----------------------------------------
tc stop --all >/dev/null 2>&1
is "$(supervisors pa)$(supervisors pb)$(supervisors one)$(supervisors hand)" 0000 "stop --all: no supervisor left"

done_testing
