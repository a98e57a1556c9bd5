#!/bin/bash
# t_sync_soracom.sh: `tunnelctl sync --soracom=BASE` (issue 3): the IMSI from
# BASE/v1/subscriber, the SORACOM-style document from BASE/v1/userdata, first-
# use host keys, conditional GETs, and hostile portForwardParam values that
# must never reach a shell.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
loopback_fixture
IMSI=440101234567890
PWN=/tmp/pwn-$$
at_exit "rm -f $PWN"
rm -f "$PWN"

ROOT=$WORK/www
mkdir -p "$ROOT/v1"
HLOG=$WORK/httpd.log
cat >"$ROOT/v1/subscriber" <<EOF
{"imsi": "$IMSI", "msisdn": "981234567890", "ipAddress": "10.128.0.7",
 "operatorId": "OP0012345678", "apn": "soracom.io", "type": "s1.standard",
 "groupId": null, "status": "active", "tags": {"name": "edge-0042"},
 "sessionStatus": {"online": true, "imei": "356938035643809"},
 "speedClass": "s1.standard", "moduleType": "nano"}
EOF
python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$ROOT" --portfile "$WORK/httpd.port" \
	--logfile "$HLOG" >"$WORK/httpd.err" 2>&1 &
HPID=$!
at_exit "kill $HPID"
wait_for 5 test -s "$WORK/httpd.port" || skip_all "httpd.py did not start"
BASE=http://127.0.0.1:$(cat "$WORK/httpd.port")
UD=$ROOT/v1/userdata

# userdata PFP [IMSI]: the SORACOM document with one entry (PFP taken
# verbatim, so it may hold anything) plus another device's entry.
userdata() {
	python3 - "$SSHD/client_key" "$UD" "$1" "${2:-$IMSI}" <<'EOF'
import json, os, sys
keyf, out, pfp, imsi = sys.argv[1:5]
pem = open(keyf).read()
imsis = {"440109999999999": {"portForwardParam": "9:127.0.0.1:9 -p 9 other@127.0.0.1",
                             "privateKey": pem}}
if imsi != "-":
    imsis[imsi] = {"portForwardParam": pfp, "privateKey": pem}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump({"ssh": {"imsis": imsis}}, f, indent=1)
os.replace(tmp, out)
EOF
}
run_sync() {
	OUT=$(tc sync --soracom="$BASE" "$@" 2>"$WORK/err"); RC=$?
	ERR=$(cat "$WORK/err")
}
one_line() { printf '%s' "$1" | tr '\n' ';'; }
has_line() { printf '%s\n' "$OUT" | grep -qE "$1"; }
reqs() { wc -l <"$HLOG"; }
log_since() { tail -n +"$(($1 + 1))" "$HLOG"; }

# --- first sync: tunnel "ssh" up, TOFU host key kept, traffic ----------------
R1=$(free_port)
userdata "$R1:127.0.0.1:$TPORT -p $SPORT root@127.0.0.1"
run_sync
is "$RC" 0 "soracom sync exits 0 ($(one_line "$ERR"))"
check "ssh: started ($(one_line "$OUT"))" has_line '^ssh: started \(.+\)$'
check "tunnel 'ssh' comes up" wait_for 15 state_is ssh up
is "$(jfield ssh origin)" sync "origin sync"
is "$(jfield ssh server)" "root@127.0.0.1:$SPORT" "server from portForwardParam (-p honoured)"
is "$(jfield ssh remote_port)" "$R1" "remote port from portForwardParam"
is "$(jfield ssh target)" "127.0.0.1:$TPORT" "target from portForwardParam"
is "$(fetch_token "$R1")" "$TOKEN" "traffic flows through the SORACOM tunnel"
check "first use: the server's host key was kept in known_hosts" \
	grep -qF "$(cut -d' ' -f2 <<<"$SSHD_HOSTKEY_PUB")" "$STATE/ssh/known_hosts"
check "known_hosts is 0600" [ "$(stat -c %a "$STATE/ssh/known_hosts")" = 600 ]
sup=$(jfield ssh pid)
sp=$(pgrep -s "$sup" -x ssh | head -1)
check "ssh uses accept-new (no host key in SORACOM documents)" \
	sh -c "tr '\0' '\n' </proc/$sp/cmdline | grep -qx -- '-oStrictHostKeyChecking=accept-new'"
P=$sup

# --- idle second sync: exactly two small conditional requests, both 304 ------
n0=$(reqs)
run_sync
is "$RC" 0 "idle soracom sync exits 0"
check "ssh unchanged ($(one_line "$OUT"))" has_line '^ssh: unchanged \(.+\)$'
is "$(jfield ssh pid)" "$P" "same supervisor"
last=$(log_since "$n0")
is "$(printf '%s\n' "$last" | wc -l)" 2 "idle sync: exactly two requests"
is "$(printf '%s\n' "$last" | python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
print(" ".join("%s:%s:%s:%s" % (r["path"], r["status"], bool(r["if_none_match"]), r["bytes"]) for r in rs))')" \
	"/v1/subscriber:304:True:0 /v1/userdata:304:True:0" "subscriber and userdata, both 304 with If-None-Match, no body"

# --- faults of the metadata service: nothing changes ---------------------------
survives() { [ "$(jfield ssh pid)" = "$P" ] && state_is ssh up; }
echo 500 >"$ROOT/v1/subscriber.mode"
run_sync
is "$RC" 69 "subscriber 500: exit 69"
check "subscriber 500: says why ($(one_line "$ERR"))" sh -c "printf '%s' '$ERR' | grep -q 'subscriber.*500'"
check "subscriber 500: tunnel survives" survives
rm -f "$ROOT/v1/subscriber.mode"
cp "$ROOT/v1/subscriber" "$WORK/sub.good"
echo '{"imsi": 440101234567890}' >"$ROOT/v1/subscriber"
run_sync
is "$RC" 65 "subscriber with a numeric imsi: exit 65"
check "names .imsi ($(one_line "$ERR"))" sh -c "printf '%s' '$ERR' | grep -q 'imsi'"
check "bad subscriber: tunnel survives" survives
cp "$WORK/sub.good" "$ROOT/v1/subscriber"
echo empty >"$UD.mode"
run_sync
is "$RC" 65 "empty userdata: exit 65"
check "empty userdata: tunnel survives" survives
rm -f "$UD.mode"

# --- hostile portForwardParam values: 65, never executed, tunnel survives -----
T=127.0.0.1:$TPORT
X="-oProxyCommand=touch $PWN"
hostile=(
	"$R1:$T -p $SPORT root@127.0.0.1; touch $PWN"
	"$R1:$T -p $SPORT root@127.0.0.1;touch${IFS:0:1}$PWN"
	"$R1:$T -p $SPORT root@\$(touch $PWN)"
	"$R1:$T -p $SPORT root@127.0.0.1\$(touch${IFS:0:1}$PWN)"
	"$R1:\$(touch $PWN):$TPORT -p $SPORT root@127.0.0.1"
	"$R1:$T -p $SPORT \`touch $PWN\`@127.0.0.1"
	"$R1:$T -p \`touch $PWN\` root@127.0.0.1"
	"$R1:$T -p $SPORT root@127.0.0.1
touch $PWN"
	"$R1:$T -p $SPORT root@127.0.0.1\ntouch $PWN"
	"$R1:$T
-p $SPORT root@127.0.0.1"
	"$X $R1:$T -p $SPORT root@127.0.0.1"
	"$X:$R1:$T -p $SPORT root@127.0.0.1"
	"$R1:$X:$TPORT -p $SPORT root@127.0.0.1"
	"$R1:$T:$X -p $SPORT root@127.0.0.1"
	"$R1:$T -p $X root@127.0.0.1"
	"$R1:$T -p $SPORT $X root@127.0.0.1"
	"$R1:$T -p $SPORT $X@127.0.0.1"
	"$R1:$T -p $SPORT root@$X"
	"$R1:$T -p $SPORT root@127.0.0.1 $X"
	"$R1:$T -p $SPORT -oProxyCommand=touch${IFS:0:1}$PWN root@127.0.0.1"
	"$R1:$T -p $SPORT root@-oProxyCommand=true"
	"$R1:$T -p $SPORT -lroot 127.0.0.1"
	"$R1:$T -p $SPORT -- root@127.0.0.1"
	"$R1:$T -p $SPORT root@127.0.0.1 -R 1:127.0.0.1:1"
	"$R1:$T -o ProxyCommand=touch root@127.0.0.1"
	"$R1:$T -p $SPORT -p $SPORT root@127.0.0.1"
	"-$R1:$T -p $SPORT root@127.0.0.1"
	"$R1:$T -p -$SPORT root@127.0.0.1"
	"$R1:$T -p $SPORT root@127.0.0.1|touch $PWN"
	"$R1:$T -p $SPORT root@127.0.0.1&&touch $PWN"
	"$R1:$T -p $SPORT root@127.0.0.1>$PWN"
)
i=0
for v in "${hostile[@]}"; do
	i=$((i + 1))
	userdata "$v"
	run_sync
	shown=$(printf '%q' "$v")
	if [ "$RC" = 65 ] && printf '%s' "$ERR" | grep -q 'portForwardParam' && [ -z "$OUT" ]; then
		ok "hostile #$i rejected with 65 naming portForwardParam: $shown"
	else
		not_ok "hostile #$i rejected with 65 naming portForwardParam: $shown"
		diag "rc=$RC out=$(one_line "$OUT") err=$(one_line "$ERR")"
	fi
done
sleep 0.5
check "no hostile value was executed ($PWN never appears)" [ ! -e "$PWN" ]
check "the running tunnel survived every hostile document" survives
is "$(fetch_token "$R1")" "$TOKEN" "and still carries traffic"
leak=0
for f in /proc/[0-9]*/cmdline; do
	{ tr '\0' '\n' <"$f"; } 2>/dev/null | grep -q -- "ProxyCommand" && leak=1
done
is "$leak" 0 "no process got a ProxyCommand argument"

# --- accepted spellings: optional bind, default port 22 is not the test's ----
R2=$(free_port)
userdata "127.0.0.1:$R2:$T -p $SPORT root@127.0.0.1"
run_sync
is "$RC" 0 "BIND:RPORT:THOST:TPORT form accepted"
check "changed spec: restarted ($(one_line "$OUT"))" has_line '^ssh: restarted'
check "up again" wait_for 15 state_is ssh up
is "$(fetch_token "$R2")" "$TOKEN" "new port carries traffic"
check "old port closed" wait_port_closed 127.0.0.1 "$R1" 10
P=$(jfield ssh pid)

# --- userdata without our IMSI: stopped -----------------------------------------
userdata "" -
run_sync
is "$RC" 0 "userdata without our IMSI: exit 0"
check "ssh: stopped ($(one_line "$OUT"))" has_line '^ssh: stopped \(.+\)$'
check "state removed" [ ! -e "$STATE/ssh" ]
check "remote port closed" wait_port_closed 127.0.0.1 "$R2" 10
check "supervisor gone" wait_for 5 sh -c "! kill -0 $P 2>/dev/null"

# --- a different IMSI from the subscriber endpoint picks another entry ----------
sed "s/$IMSI/440101111111111/" "$WORK/sub.good" >"$ROOT/v1/subscriber"
R3=$(free_port)
userdata "$R3:$T -p $SPORT root@127.0.0.1" 440101111111111
run_sync
is "$RC" 0 "new IMSI: exit 0"
check "started for the new IMSI ($(one_line "$OUT"))" has_line '^ssh: started'
check "up for the new IMSI" wait_for 15 state_is ssh up
is "$(fetch_token "$R3")" "$TOKEN" "traffic for the new IMSI"

# --- soracom from the settings file, and --soracom with --source is a usage error
printf 'soracom = %s\n' "$BASE" >"$SETTINGS"
OUT=$(tc sync 2>&1); RC=$?
check "soracom = BASE in the settings file ($RC: $(one_line "$OUT"))" sh -c "[ $RC = 0 ] && printf '%s' '$OUT' | grep -q '^ssh: unchanged'"
: >"$SETTINGS"
OUT=$(tc sync --soracom="$BASE" --source "$BASE/v1/userdata" 2>&1); RC=$?
is "$RC" 2 "--soracom with --source: usage error"
# the same document read through --source + --id IMSI (schema from content)
OUT=$(tc sync --source "$BASE/v1/userdata" --id 440101111111111 2>&1); RC=$?
check "--source + --id IMSI reads the SORACOM document ($RC: $(one_line "$OUT"))" sh -c "[ $RC = 0 ] && printf '%s' '$OUT' | grep -q '^ssh: unchanged'"

# --- a server that keeps connections open: one connection per poll, and none
# left open once sync is done (the tunnels it starts must not inherit it) ---
python3 "$TC_SRCDIR/tests/helpers/httpd.py" --root "$ROOT" --portfile "$WORK/ka.port" \
	--logfile "$WORK/ka.log" --keep-alive >"$WORK/ka.err" 2>&1 &
KPID=$!
at_exit "kill $KPID"
check "httpd.py --keep-alive starts" wait_for 5 test -s "$WORK/ka.port"
KPORT=$(cat "$WORK/ka.port")
R4=$(free_port)
userdata "$R4:$T -p $SPORT root@127.0.0.1" 440101111111111
OUT=$(tc sync --soracom="http://127.0.0.1:$KPORT" 2>"$WORK/err"); RC=$?
is "$RC" 0 "keep-alive server: sync exits 0 ($(one_line "$(cat "$WORK/err")"))"
check "keep-alive server: the tunnel is restarted onto the new port ($(one_line "$OUT"))" has_line '^ssh: restarted'
conns() { python3 -c 'import json, sys; print(" ".join("%s:%s" % (r["path"], r["conn"]) for r in map(json.loads, open(sys.argv[1]))))' "$1"; }
is "$(conns "$WORK/ka.log")" "/v1/subscriber:1 /v1/userdata:1" \
	"keep-alive server: subscriber and userdata on one connection"
none_open() { [ "$(ss -Htn state established "( sport = :$KPORT or dport = :$KPORT )" | wc -l)" = 0 ]; }
check "keep-alive server: no connection left open after sync (tunnels inherit none)" \
	wait_for 5 none_open
check "keep-alive server: the new tunnel comes up" wait_for 15 state_is ssh up
is "$(fetch_token "$R4")" "$TOKEN" "keep-alive server: traffic through the restarted tunnel"
check "keep-alive server: the supervisor holds no socket to it" \
	sh -c "! ss -Htnp | grep -F ':$KPORT' | grep -q 'pid=$(jfield ssh pid),'"
# the closing server of the rest of this file: one connection per request
is "$(log_since 0 | python3 -c 'import json, sys; rs = [json.loads(l) for l in sys.stdin]; print(len({r["conn"] for r in rs}) == len(rs))')" \
	True "closing server: every request had its own connection"

tc stop --all >/dev/null 2>&1
done_testing
