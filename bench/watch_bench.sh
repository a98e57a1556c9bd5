# watch_bench.sh: section 8 of bench/run, `tunnelctl watch` (sourced by
# bench/run: it uses its helpers, cleanup lists and knobs).
#
# Device D <-> server S in namespaces (uplink veth up0, 203.0.113.2 <->
# 203.0.113.1). In S: a real sshd, a real mosquitto (plain 1883 with a
# password, TLS 8883 with client certificates, tests/helpers/mosquitto.sh),
# the config server (tests/helpers/httpd.py, keep-alive, http 8000 and
# https 8443) holding SORACOM metadata and native documents. In D:
# tunnelctl, the cron script, nft counters on up0 per server port.
#
# Knobs: WATCH_N (reaction samples per tool, 10), WATCH_HN (HTTP reaction
# samples, 5), WATCH_ROUNDS (idle rounds driven by SIGUSR1, 1000),
# WATCH_KEEPALIVE (mqtt_keepalive, 300), WATCH_EXCHANGES (keepalive periods
# timed for the idle MQTT figures, 2: about 2 x 300-375 s), WATCH_COLD_S (how
# long a watcher at --interval 5s idles for the cold-round figure, 60).

WATCH_N=${WATCH_N:-10}
WATCH_HN=${WATCH_HN:-5}
WATCH_ROUNDS=${WATCH_ROUNDS:-1000}
WATCH_KEEPALIVE=${WATCH_KEEPALIVE:-300}
WATCH_EXCHANGES=${WATCH_EXCHANGES:-2}
WATCH_COLD_S=${WATCH_COLD_S:-60}

# wbytes PORT: "BYTES PACKETS" of every IP packet on D's uplink to or from
# that server port so far (nft counters).
wbytes() {
	ip netns exec "$WD" nft list table inet tcbw | awk -v p="port $1 counter" '
		index($0, p) {
			for (i = 1; i < NF; i++) {
				if ($i == "packets") k += $(i + 1)
				if ($i == "bytes") b += $(i + 1)
			}
		}
		END { printf "%d %d\n", b, k }'
}
# median of the numbers on stdin; min; max
med() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "null"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minof() { sort -g | head -1; }
maxof() { sort -g | tail -1; }
insrv_w() { ip netns exec "$WS" "$@"; }
# wtc STATE ARGS...: tunnelctl in D with that state dir
wtc() { local st=$1; shift; ip netns exec "$WD" "$TC_BIN" --state-dir "$st" "$@"; }
# wwatch STATE SETTINGS ARGS...: a watcher in D; its PID (tunnelctl itself) in WPID
wwatch() {
	local st=$1 set=$2
	shift 2
	ip netns exec "$WD" "$TC_BIN" --state-dir "$st" --settings "$set" -q watch "$@" \
		>>"$WORK/watch.log" 2>&1 &
	WPID=$!
	WATCHERS+=("$WPID")
}
wrounds() { sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$1/watch.json" 2>/dev/null; }
wait_rounds() { # STATE N: until N rounds are done (LIMIT s)
	local i
	for ((i = 0; i < LIMIT * 10; i++)); do
		[ "$(wrounds "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wpub() { # TOPIC FILE: publish retained from the operator's side (in S)
	insrv_w mosquitto_pub -h 203.0.113.1 -p 1883 -u publisher -P pw-publisher -q 1 -t "$1" -r -f "$2"
}
# wdoc FILE DEVICE [NAME:RPORT]...: a native document, tunnels to D's port 9
wdoc() {
	"$PY" - "$WSSHD/client_key" "$WHK" "$@" <<'EOF'
import json, os, sys
keyf, hk, out, dev = sys.argv[1:5]
t = [{"name": a.split(":")[0],
      "server": {"host": "203.0.113.1", "user": "root", "host_key": hk},
      "remote": {"port": int(a.split(":")[1])},
      "target": {"host": "127.0.0.1", "port": 9},
      "private_key": open(keyf).read()} for a in sys.argv[5:]]
tmp = out + ".tmp"
json.dump({"version": 1, "devices": {dev: {"tunnels": t}}}, open(tmp, "w"))
os.replace(tmp, out)
EOF
}
port_up_s() { _port_open 127.0.0.1 "$1" "$WS"; }
nvcsw() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"; }
wait_closed_s() { wait_port_closed 127.0.0.1 "$1" 20 "$WS"; }

watch_setup() {
	WD=tcbwd$$ WS=tcbws$$
	bench_ns "$WD" "$WS" || die "watch: ip netns add failed"
	ip link add up0 netns "$WD" type veth peer name dn0 netns "$WS" &&
		ip -n "$WD" addr add 203.0.113.2/24 dev up0 && ip -n "$WD" link set up0 up &&
		ip -n "$WS" addr add 203.0.113.1/24 dev dn0 && ip -n "$WS" link set dn0 up ||
		die "watch: veth"
	WSSHD=$WORK/wsshd
	sshd_setup "$WSSHD" >/dev/null || die "sshd_setup failed"
	sshd_start_ns "$WS" "$WSSHD" 22 203.0.113.1 || die "cannot start sshd in $WS"
	SSHDS+=("$WSSHD")
	WHK=$SSHD_HOSTKEY_PUB
	printf '203.0.113.1 %s\n' "$WHK" >"$WORK/wknown_hosts"
	WB=$WORK/wbroker
	mkdir -p "$WB"
	MQTT_NS=$WS MQTT_ADDR=203.0.113.1 MQTT_PORTS="1883 8883" mqtt_broker_setup "$WB" >/dev/null ||
		die "watch: broker set-up (openssl, mosquitto_passwd)"
	BROKERS+=("$WB")
	mqtt_broker_start "$WB" || die "watch: mosquitto did not start"
	printf 'pw-edge-2\n' >"$WORK/edge-2.pw"
	chmod 600 "$WORK/edge-2.pw"
	# The config server: SORACOM metadata as in section 1, and native documents.
	WMETA=$WORK/wmeta
	mkdir -p "$WMETA/v1" "$WORK/wscript"
	"$PY" - "$WMETA" "$FLEET" "$WSSHD/client_key" <<'PYEOF' || die "cannot write the documents"
import json, sys
meta, fleet, keyf = sys.argv[1:]
key = open(keyf).read()
imsi = "440101234567890"
sub = {"imsi": imsi, "msisdn": "812012345678", "ipAddress": "10.128.0.42", "apn": "soracom.io",
       "type": "s1.standard", "status": "active", "groupId": "0b0d0b2c-7b6e-4c4e-9e1a-3f3f9c1f2a10",
       "tags": {"name": "edge-0042", "site": "plant-7"}, "createdAt": 1700000000000}
imsis = {}
for i in range(int(fleet)):
    k = imsi if i == 0 else "4401012345%05d" % (70000 + i)
    imsis[k] = {"portForwardParam": "%d:localhost:9 root@203.0.113.1" % (18000 + i), "privateKey": key}
json.dump(sub, open(meta + "/v1/subscriber", "w"), indent=1)
json.dump({"ssh": {"imsis": imsis}}, open(meta + "/v1/userdata", "w"), indent=1)
PYEOF
	wdoc "$WMETA/cron.json" edge-n cn:18500
	wdoc "$WMETA/react.json" edge-h
	local i
	for i in 0 1; do
		rm -f "$WORK/wh$i.port"
		# shellcheck disable=SC2046 # the TLS flag is two words or none
		ip netns exec "$WS" "$PY" "$TC_SRCDIR/tests/helpers/httpd.py" --root "$WMETA" --bind 203.0.113.1 \
			--port $((8000 + i * 443)) --portfile "$WORK/wh$i.port" --logfile "$WORK/wh$i.log" --keep-alive \
			$([ "$i" = 1 ] && echo "--tls $WB/server.crt $WB/server.key") >/dev/null 2>&1 &
		PIDS+=("$!")
	done
	for _ in $(seq 50); do [ -s "$WORK/wh0.port" ] && [ -s "$WORK/wh1.port" ] && break; sleep 0.1; done
	[ -s "$WORK/wh1.port" ] || die "watch: httpd did not start"
	ip netns exec "$WD" nft -f - <<EOF || die "nft counters failed"
table inet tcbw {
	chain o {
		type filter hook output priority 0;
		oifname "up0" tcp dport 1883 counter
		oifname "up0" tcp dport 8883 counter
		oifname "up0" tcp dport 8000 counter
		oifname "up0" tcp dport 8443 counter
	}
	chain i {
		type filter hook input priority 0;
		iifname "up0" tcp sport 1883 counter
		iifname "up0" tcp sport 8883 counter
		iifname "up0" tcp sport 8000 counter
		iifname "up0" tcp sport 8443 counter
	}
}
EOF
	WBASE=http://203.0.113.1:8000
	RSTATE=$STATE_ROOT/wr MSTATE=$STATE_ROOT/wm HSTATE=$STATE_ROOT/wh SSTATE=$STATE_ROOT/ws CSTATE=$STATE_ROOT/wc
	STATES+=("$RSTATE" "$MSTATE" "$HSTATE" "$SSTATE" "$CSTATE")
	cat >"$WORK/wr.conf" <<EOF
source = mqtts://203.0.113.1/tunnelctl/{id}/config
id = edge-1
mqtt_cafile = $WB/ca.crt
mqtt_certfile = $WB/edge-1.crt
mqtt_keyfile = $WB/edge-1.key
mqtt_keepalive = $WATCH_KEEPALIVE
EOF
	cat >"$WORK/wm.conf" <<EOF
source = mqtt://203.0.113.1/tunnelctl/{id}/config
id = edge-2
mqtt_username = edge-2
mqtt_password_file = $WORK/edge-2.pw
mqtt_keepalive = $WATCH_KEEPALIVE
interval = 1h
EOF
}

# --- reaction: watch + MQTT against plain ssh -R -----------------------------
watch_react_mqtt() {
	local i p res t_w=() t_s=() t_c=() nse=()
	wdoc "$WORK/r-none.json" edge-1
	wpub tunnelctl/edge-1/config "$WORK/r-none.json"
	wwatch "$RSTATE" "$WORK/wr.conf"
	RPID=$WPID
	wait_rounds "$RSTATE" 1 || die "watch: the MQTT watcher did not start"
	sleep 2	# subscribed, retained document taken
	# What entering D costs the plain ssh (nsenter + sh), charged to it.
	res=$(insrv_w $BL rusage 20 -- nsenter --net=/run/netns/"$WD" /bin/sh -c :)
	NSENTER_MS=$(fmt_ms "$(jget "$res" wall_median_s)")
	for ((i = 1; i <= WATCH_N; i++)); do
		p=$((19000 + i))
		wdoc "$WORK/r-add.json" edge-1 "rr:$p"
		res=$(insrv_w $BL up "$p" "$LIMIT" -- mosquitto_pub -h 203.0.113.1 -p 1883 -u publisher \
			-P pw-publisher -q 1 -t tunnelctl/edge-1/config -r -f "$WORK/r-add.json")
		t_w+=("$(jget "$res" seconds)")
		# The same tunnel on another port: a restart (stop, then start).
		wdoc "$WORK/r-chg.json" edge-1 "rr:$((p + 100))"
		res=$(insrv_w $BL up "$((p + 100))" "$LIMIT" -- mosquitto_pub -h 203.0.113.1 -p 1883 \
			-u publisher -P pw-publisher -q 1 -t tunnelctl/edge-1/config -r -f "$WORK/r-chg.json")
		t_c+=("$(jget "$res" seconds)")
		wpub tunnelctl/edge-1/config "$WORK/r-none.json"
		wait_closed_s "$((p + 100))"
		p=$((19500 + i))
		res=$(insrv_w $BL up "$p" "$LIMIT" -- nsenter --net=/run/netns/"$WD" /bin/sh \
			"$BENCH_DIR/baseline/ssh_start.sh" 203.0.113.1 "$p" 9 "$WSSHD/client_key" \
			"$WORK/wknown_hosts" "$WORK/ssh.apid")
		t_s+=("$(jget "$res" seconds)")
		stop_autossh ssh
		wait_closed_s "$p"
	done
	RE_W=$(printf '%s\n' "${t_w[@]}" | med) RE_S=$(printf '%s\n' "${t_s[@]}" | med)
	RE_C=$(printf '%s\n' "${t_c[@]}" | med)
	RE_ROWS=$(printf '%-44s %8s %8s %8s\n' "plain ssh -R (started in D by nsenter + sh)" "$(fmt_ms "$RE_S")" \
		"$(fmt_ms "$(printf '%s\n' "${t_s[@]}" | minof)")" "$(fmt_ms "$(printf '%s\n' "${t_s[@]}" | maxof)")"
		printf '%-44s %8s %8s %8s\n' "watch + MQTT (mqtts): a tunnel added" "$(fmt_ms "$RE_W")" \
		"$(fmt_ms "$(printf '%s\n' "${t_w[@]}" | minof)")" "$(fmt_ms "$(printf '%s\n' "${t_w[@]}" | maxof)")"
		printf '%-44s %8s %8s %8s\n' "watch + MQTT (mqtts): its port changed" "$(fmt_ms "$RE_C")" \
		"$(fmt_ms "$(printf '%s\n' "${t_c[@]}" | minof)")" "$(fmt_ms "$(printf '%s\n' "${t_c[@]}" | maxof)")")
}

# --- reaction: watch + HTTP at a 5 s interval ----------------------------------
watch_react_http() {
	local i p res t=() names=()
	wwatch "$HSTATE" /dev/null --source "$WBASE/react.json" --id edge-h --interval 5s
	HPID=$WPID
	wait_rounds "$HSTATE" 1 || die "watch: the HTTP watcher did not start"
	for ((i = 1; i <= WATCH_HN; i++)); do
		p=$((19200 + i))
		names+=("h$i:$p")
		# The change lands anywhere in the watcher's 5 s.
		sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", (s % 500) / 100 }')"
		wdoc "$WORK/react.new" edge-h "${names[@]}"
		res=$(insrv_w $BL up "$p" "$LIMIT" -- mv -f "$WORK/react.new" "$WMETA/react.json")
		t+=("$(jget "$res" seconds)")
	done
	kill -TERM "$HPID" && wait "$HPID" 2>/dev/null
	wtc "$HSTATE" --settings /dev/null -q stop --all
	RH_MED=$(printf '%s\n' "${t[@]}" | med) RH_MAX=$(printf '%s\n' "${t[@]}" | maxof)
	RH_ROW=$(printf '%-44s %8s %8s %8s\n' "watch + HTTP, --interval 5s (change at random)" "$(fmt_ms "$RH_MED")" \
		"$(fmt_ms "$(printf '%s\n' "${t[@]}" | minof)")" "$(fmt_ms "$RH_MAX")")
}

# mem_floor: MEM_USS_FLOOR and MEM_PD_FLOOR ("-" when it cannot be built):
# bench/baseline/memfloor.c linked with tunnelctl's shared libraries, asleep
# after initialising libcurl, measured alone as the watcher was (the watcher
# is gone, so neither shares the other's pages).
mem_floor() {
	local libs fp
	MEM_USS_FLOOR=- MEM_PD_FLOOR=-
	libs=$(needed_libs)
	# shellcheck disable=SC2086 # one -l:LIB per word
	"${CC:-cc}" -O2 -o "$WORK/memfloor" "$BENCH_DIR/baseline/memfloor.c" -Wl,--no-as-needed $libs \
		2>/dev/null || return 0
	"$WORK/memfloor" >"$WORK/memfloor.out" &
	fp=$!
	PIDS+=("$fp")
	for _ in $(seq 50); do [ -s "$WORK/memfloor.out" ] && break; sleep 0.1; done
	if [ -s "$WORK/memfloor.out" ]; then
		MEM_USS_FLOOR=$($BL mem "$fp" | jq -r '.procs[0].uss_kb')
		MEM_PD_FLOOR=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$fp/smaps_rollup")
	fi
	kill -TERM "$fp" && wait "$fp" 2>/dev/null
}

# --- idle cost per poll or round: script, sync, watch (HTTP 304) --------------
watch_idle_http() {
	local res b0 b1 script sync
	script=(/bin/sh "$BENCH_DIR/baseline/poll.sh" "$WBASE" "$WORK/wscript")
	sync=("$TC_BIN" --state-dir "$SSTATE" --settings /dev/null -q sync "--soracom=$WBASE")
	ip netns exec "$WD" "${sync[@]}" || die "watch: first sync failed"
	for _ in $(seq 150); do
		[ "$(wtc "$SSTATE" --settings /dev/null status --json 2>/dev/null | jq -r '.tunnels[0].state')" = up ] && break
		sleep 0.1
	done
	ip netns exec "$WD" "${script[@]}" >/dev/null
	read -r b0 _ < <(wbytes 8000)
	res=$(ip netns exec "$WD" $BL rusage "$N" -- "${script[@]}")
	read -r b1 _ < <(wbytes 8000)
	IC_SCRIPT=$(jget "$res" cpu_mean_s) BY_SCRIPT=$(((b1 - b0) / N))
	ip netns exec "$WD" "${sync[@]}"
	read -r b0 _ < <(wbytes 8000)
	res=$(ip netns exec "$WD" $BL rusage "$N" -- "${sync[@]}")
	read -r b1 _ < <(wbytes 8000)
	IC_SYNC=$(jget "$res" cpu_mean_s) BY_SORA=$(((b1 - b0) / N))
	# The watcher on the same state dir: the tunnel sync started is its to keep.
	wwatch "$SSTATE" /dev/null "--soracom=$WBASE" --interval 1h
	SPID=$WPID
	wait_rounds "$SSTATE" 1 || die "watch: the SORACOM watcher did not start"
	res=$($BL rounds "$SPID" "$SSTATE/watch.json" 10)
	[ "$(jget "$res" failed)" = null ] || die "watch: rounds: $(jget "$res" failed)"
	read -r b0 _ < <(wbytes 8000)
	res=$($BL rounds "$SPID" "$SSTATE/watch.json" "$WATCH_ROUNDS")
	read -r b1 _ < <(wbytes 8000)
	[ "$(jget "$res" failed)" = null ] || die "watch: rounds: $(jget "$res" failed)"
	IC_WATCH=$(awk -v ns="$(jget "$res" sched_ns)" -v n="$WATCH_ROUNDS" 'BEGIN { printf "%.9f", ns / n / 1e9 }')
	IC_WATCH_TICKS=$(awk -v s="$(jget "$res" ticks_s)" -v n="$WATCH_ROUNDS" 'BEGIN { printf "%.9f", s / n }')
	BY_WATCH=$(((b1 - b0) / WATCH_ROUNDS))
	MEM_RSS10=$(jget "$res" rss_kb_before) MEM_RSS1000=$(jget "$res" rss_kb_after)
	MEM_FD10=$(jget "$res" fds_before) MEM_FD1000=$(jget "$res" fds_after)
	MEM_USS_HTTP=$($BL mem "$SPID" | jq -r '.procs[0].uss_kb')
	MEM_PD_HTTP=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$SPID/smaps_rollup")
	kill -TERM "$SPID" && wait "$SPID" 2>/dev/null
	mem_floor
	# The same rounds as they come on a device: one every 5 s (the shortest
	# interval), the caches cold from whatever ran in between.
	local r0 r1 c0 c1
	wwatch "$SSTATE" /dev/null "--soracom=$WBASE" --interval 5s
	SPID=$WPID
	wait_rounds "$SSTATE" 2 || die "watch: the 5 s watcher did not start"
	r0=$(wrounds "$SSTATE") c0=$($BL cpu "$SPID" | jq -r .sched_ns)
	sleep "$WATCH_COLD_S"
	r1=$(wrounds "$SSTATE") c1=$($BL cpu "$SPID" | jq -r .sched_ns)
	IC_COLD=$(awk -v c="$((c1 - c0))" -v n="$((r1 - r0))" 'BEGIN { printf "%.9f", (n > 0 ? c / n / 1e9 : 0) }')
	IC_COLD_N=$((r1 - r0))
	kill -TERM "$SPID" && wait "$SPID" 2>/dev/null
	watch_instructions
}

# Instructions (callgrind): the script, sync, and a watch round, the latter
# as the difference of two watcher runs (10 and 10 + K rounds) over K.
watch_instructions() {
	IN_SCRIPT=- IN_SYNC=- IN_WATCH=-
	command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || return 0
	local k=100 t1 t2 n d
	IN_SCRIPT=$(CG_NS=$WD cg_run "$WORK/wcg-script" /bin/sh "$BENCH_DIR/baseline/poll.sh" "$WBASE" "$WORK/wscript")
	IN_SYNC=$(CG_NS=$WD cg_run "$WORK/wcg-sync" "$TC_BIN" --state-dir "$SSTATE" --settings /dev/null -q \
		sync "--soracom=$WBASE")
	for n in 10 $((10 + k)); do
		d=$WORK/wcg-watch$n
		rm -rf "$d" && mkdir -p "$d"
		ip netns exec "$WD" valgrind -q --tool=callgrind --callgrind-out-file="$d/cg.out" \
			"$TC_BIN" --state-dir "$SSTATE" --settings /dev/null -q watch "--soracom=$WBASE" \
			--interval 1h >/dev/null 2>&1 &
		WPID=$!
		WATCHERS+=("$WPID")
		wait_rounds "$SSTATE" 1 || die "watch: the watcher under callgrind did not start"
		$BL rounds "$WPID" "$SSTATE/watch.json" "$((n - 1))" >/dev/null
		kill -TERM "$WPID" && wait "$WPID" 2>/dev/null
		awk '/^totals:/ { t += $2 } END { print t + 0 }' "$d/cg.out" >"$d/total"
	done
	t1=$(cat "$WORK/wcg-watch10/total") t2=$(cat "$WORK/wcg-watch$((10 + k))/total")
	IN_WATCH=$(((t2 - t1) / k))
}

# --- bytes of cron sync polls over one native document ------------------------
watch_cron_bytes() {
	local b0 b1 url
	for url in "$WBASE/cron.json" "https://203.0.113.1:8443/cron.json"; do
		wtc "$CSTATE" --settings /dev/null -q sync --source "$url" --id edge-n --cacert "$WB/ca.crt" ||
			die "watch: cron sync $url failed"
		local port=8000
		case $url in https:*) port=8443 ;; esac
		read -r b0 _ < <(wbytes "$port")
		for _ in $(seq "$N"); do
			wtc "$CSTATE" --settings /dev/null -q sync --source "$url" --id edge-n --cacert "$WB/ca.crt"
		done
		read -r b1 _ < <(wbytes "$port")
		if [ "$port" = 8000 ]; then BY_CRON=$(((b1 - b0) / N)); else BY_CRONS=$(((b1 - b0) / N)); fi
	done
}

# --- idle MQTT: CPU per hour and bytes per day, timed over keepalive periods ---
watch_idle_mqtt_start() {
	wdoc "$WORK/m1.json" edge-1 idle:19601
	wdoc "$WORK/m2.json" edge-2 idle2:19602
	wpub tunnelctl/edge-1/config "$WORK/m1.json"
	wpub tunnelctl/edge-2/config "$WORK/m2.json"
	wwatch "$MSTATE" "$WORK/wm.conf"
	MPID=$WPID
	for _ in $(seq 200); do port_up_s 19601 && port_up_s 19602 && break; sleep 0.1; done
	port_up_s 19601 && port_up_s 19602 || die "watch: the idle MQTT tunnels did not come up"
	sleep 3
	local lim=$(((WATCH_EXCHANGES + 2) * WATCH_KEEPALIVE * 5 / 4 + 60))
	# Beside them, the floor of a wake-up on this machine: a program that
	# only waits on a timer, woken once a minute (or twice a keepalive,
	# when that is shorter) for about as long; and four more woken once a
	# keepalive, as the watchers are (a wake-up costs more the longer the
	# sleep before it), a few seconds apart.
	WAKE_FLOOR=null WAKE_FLOOR_KA=null WAKE_PIDS=()
	local every=$((WATCH_KEEPALIVE * 500 < 60000 ? WATCH_KEEPALIVE * 500 : 60000)) i
	if "${CC:-cc}" -O2 -o "$WORK/wake" "$BENCH_DIR/baseline/wake.c" 2>/dev/null; then
		"$WORK/wake" "$((WATCH_EXCHANGES * WATCH_KEEPALIVE * 1000 / every + 1))" "$every" >"$WORK/wake.json" &
		WAKE_PID=$!
		PIDS+=("$WAKE_PID")
		for i in 1 2 3 4; do
			sleep 1
			"$WORK/wake" "$((WATCH_EXCHANGES > 2 ? WATCH_EXCHANGES : 2))" "$((WATCH_KEEPALIVE * 1000))" \
				>"$WORK/wake-ka$i.json" &
			WAKE_PIDS+=("$!")
		done
		PIDS+=("${WAKE_PIDS[@]}")
	fi
	WK_T0=$(date +%s.%N) WK_R0=$(nvcsw "$RPID") WK_M0=$(nvcsw "$MPID")
	$BL exchanges "$WATCH_EXCHANGES" "$lim" "$RPID" "$RSTATE/watch.json" -- \
		bash -c "$(declare -f wbytes); WD=$WD; wbytes 8883" >"$WORK/ex-tls" &
	EXPIDS=("$!")
	$BL exchanges "$WATCH_EXCHANGES" "$lim" "$MPID" "$MSTATE/watch.json" -- \
		bash -c "$(declare -f wbytes); WD=$WD; wbytes 1883" >"$WORK/ex-plain" &
	EXPIDS+=("$!")
	PIDS+=("${EXPIDS[@]}")
}

bench_watch() {
	local res w
	for t in mosquitto mosquitto_pub mosquitto_passwd openssl nsenter; do
		command -v "$t" >/dev/null || die "watch: $t is not installed"
	done
	watch_setup
	watch_react_mqtt
	# The idle MQTT clock runs while the rest is measured (its own ports).
	watch_idle_mqtt_start
	watch_react_http
	watch_idle_http
	watch_cron_bytes
	MEM_USS_MQTT=$($BL mem "$RPID" | jq -r '.procs[0].uss_kb')
	MEM_RSS_MQTT=$($BL mem "$RPID" | jq -r '.procs[0].rss_kb')
	MEM_PD_MQTT=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$RPID/smaps_rollup")
	echo "# waiting for $WATCH_EXCHANGES MQTT keepalive periods (up to $(((WATCH_EXCHANGES + 2) * WATCH_KEEPALIVE * 5 / 4 + 60)) s)" >&2
	wait "${EXPIDS[@]}"
	WK_T1=$(date +%s.%N) WK_R1=$(nvcsw "$RPID") WK_M1=$(nvcsw "$MPID")
	[ -n "${WAKE_PID:-}" ] && wait "$WAKE_PID" && WAKE_FLOOR=$(jq -r '.ns_per_wake / 1e6' "$WORK/wake.json")
	if [ "${#WAKE_PIDS[@]}" -gt 0 ] && wait "${WAKE_PIDS[@]}"; then
		# The median of the four, and their range.
		WAKE_FLOOR_KA=$(jq -s -r '[.[].ns_per_wake / 1e6] | sort | "\((.[1] + .[2]) / 2) \(.[0]) \(.[3])"' \
			"$WORK"/wake-ka[1-4].json 2>/dev/null) || WAKE_FLOOR_KA=null
		[ -n "$WAKE_FLOOR_KA" ] || WAKE_FLOOR_KA=null
	fi
	# What one of its rounds costs (the last document converged again, as
	# the interval does), to tell the interval's share from the keepalive's.
	res=$($BL rounds "$RPID" "$RSTATE/watch.json" 100)
	MQ_ROUND=$(awk -v ns="$(jget "$res" sched_ns)" 'BEGIN { printf "%.3f", ns / 100 / 1e6 }')
	for w in "${WATCHERS[@]}"; do kill -TERM "$w" 2>/dev/null && wait "$w" 2>/dev/null; done
	watch_report
}

watch_report() {
	local t jx jp ivl
	printf '\n== 8. watch (device and server namespaces, uplink veth; tunnelctl watch vs cron)\n'
	printf 'reaction: change published -> the forward accepts on the server (ms; N=%s, HTTP N=%s)\n' "$WATCH_N" "$WATCH_HN"
	printf '%-44s %8s %8s %8s\n' what median min max
	printf '%s\n%s\n' "$RE_ROWS" "$RH_ROW"
	printf '%-44s %s\n' "cron every 5 min + sync (not measured)" "the next tick: 150000 on average, 300000 at worst, + splay + sync's own start"
	echo "(entering D costs the plain ssh ${NSENTER_MS} ms: nsenter + sh, median)"
	echo "ratio watch+MQTT/plain ssh -R: $(ratio "$RE_W" "$RE_S")"
	echo "goal: watch + MQTT reaction <= 1.3x plain ssh -R: $(verdict "$(awk -v a="$RE_W" -v b="$RE_S" 'BEGIN { print (a <= 1.3 * b) }')")"
	echo "goal: watch + HTTP (5 s) <= one interval (+10 % jitter) + the ssh time: $(verdict "$(awk -v a="$RH_MAX" -v s="$RE_S" 'BEGIN { print (a <= 5.5 + s) }')") (max $(fmt_ms "$RH_MAX") ms, bound $(awk -v s="$RE_S" 'BEGIN { printf "%.2f", (5.5 + s) * 1000 }') ms)"

	printf '\nidle CPU per poll or round (SORACOM metadata, keep-alive server, the tunnel up; N=%s, watch %s rounds)\n' "$N" "$WATCH_ROUNDS"
	printf '%-40s %10s %14s\n' what cpu_ms instructions
	printf '%-40s %10s %14s\n' "cron script poll (sh, curl, jq)" "$(fmt_ms "$IC_SCRIPT")" "$IN_SCRIPT"
	printf '%-40s %10s %14s\n' "tunnelctl sync (a process per poll)" "$(fmt_ms "$IC_SYNC")" "$IN_SYNC"
	printf '%-40s %10s %14s\n' "tunnelctl watch round (two 304s)" "$(awk -v s="$IC_WATCH" 'BEGIN { printf "%.3f", s * 1000 }')" "$IN_WATCH"
	printf '%-40s %10s %14s\n' "  the same, idle at --interval 5s (cold)" "$(awk -v s="$IC_COLD" 'BEGIN { printf "%.3f", s * 1000 }')" "-"
	echo "(watch rounds from schedstat: $WATCH_ROUNDS driven back to back by SIGUSR1, and $IC_COLD_N timer rounds 5 s apart; the former from utime+stime ticks: $(awk -v s="$IC_WATCH_TICKS" 'BEGIN { printf "%.3f", s * 1000 }') ms)"
	echo "ratio script/watch round: $(ratio "$IC_SCRIPT" "$IC_WATCH") in CPU, $(ratio "$IN_SCRIPT" "$IN_WATCH") in instructions; sync/watch round: $(ratio "$IC_SYNC" "$IC_WATCH")"
	echo "goal: >= 300x less CPU per idle round than the script: $(verdict "$(awk -v a="$IC_SCRIPT" -v b="$IC_WATCH" 'BEGIN { print (a >= 300 * b) }')") (back to back $(ratio "$IC_SCRIPT" "$IC_WATCH"), cold $(ratio "$IC_SCRIPT" "$IC_COLD"))"

	jx=$(cat "$WORK/ex-tls") jp=$(cat "$WORK/ex-plain")
	printf '\nidle MQTT: watch with one tunnel up, mqtt_keepalive %s s, timed over %s keepalive periods\n' \
		"$WATCH_KEEPALIVE" "$WATCH_EXCHANGES"
	printf '%-34s %9s %9s %9s %12s %12s %8s\n' what window_s periods rounds "cpu_ms/hour" "B/exchange" "pkts"
	for t in tls plain; do
		local j
		if [ "$t" = tls ]; then j=$jx; else j=$jp; fi
		printf '%-34s %9s %9s %9s %12s %12s %8s\n' "watch + MQTT ($([ "$t" = tls ] && echo "mqtts, interval 60s" || echo "mqtt, interval 1h"))" \
			"$(printf '%s' "$j" | jq -r '.window_s // "null" | if type == "number" then (. * 10 | round / 10) else . end')" \
			"$(printf '%s' "$j" | jq -r '.periods // "-"')" "$(printf '%s' "$j" | jq -r '.rounds // "-"')" \
			"$(printf '%s' "$j" | jq -r 'if .window_s then (.cpu_ns / .window_s * 3600 / 1e6 * 1000 | round / 1000) else "-" end')" \
			"$(printf '%s' "$j" | jq -r 'if .periods then (.bytes / .periods | round) else "-" end')" \
			"$(printf '%s' "$j" | jq -r 'if .periods then (.packets / .periods * 10 | round / 10) else "-" end')"
	done
	echo "(bursts seen, tls: $(printf '%s' "$jx" | jq -c '[.bursts[] | [.at_s, .bytes, .packets]]'))"
	echo "(bursts seen, plain: $(printf '%s' "$jp" | jq -c '[.bursts[] | [.at_s, .bytes, .packets]]'))"
	MQ_CPU_H=$(printf '%s' "$jx" | jq -r 'if .window_s then .cpu_ns / .window_s * 3600 / 1e6 else "null" end')
	MQ_CPU_HK=$(printf '%s' "$jp" | jq -r 'if .window_s then .cpu_ns / .window_s * 3600 / 1e6 else "null" end')
	echo "(a round of the mqtts watcher driven back to back by SIGUSR1, caches warm: $MQ_ROUND ms CPU; an interval's round after a minute idle costs more)"
	awk -v c="$MQ_CPU_H" -v k="$MQ_CPU_HK" -v n="$(printf '%s' "$jx" | jq -r 'if .window_s then .rounds / .window_s * 3600 else 0 end')" 'BEGIN {
		if (c == "null" || k == "null" || n <= 0) exit
		r = (c - k) / n
		printf "(the interval'"'"'s share: %.2f of %.2f ms an hour, %.0f rounds at %.3f ms; with interval = 5m about %.2f ms an hour: derived from the two rows)\n", c - k, c, n, r, k + 12 * r }'
	local wr wm
	wr=$(awk -v a="$WK_R0" -v b="$WK_R1" -v t0="$WK_T0" -v t1="$WK_T1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) * 3600 }')
	wm=$(awk -v a="$WK_M0" -v b="$WK_M1" -v t0="$WK_T0" -v t1="$WK_T1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) * 3600 }')
	echo "wake-ups an hour (voluntary context switches over the whole wait): mqtts watcher $wr, mqtt watcher $wm"
	if [ "$WAKE_FLOOR" != null ]; then
		echo "the floor of a wake-up on this machine (bench/baseline/wake.c: a process that only waits on a timer, woken every $(jq -r .every_ms "$WORK/wake.json") ms beside the watchers): $(printf '%.3f' "$WAKE_FLOOR") ms CPU"
	fi
	# The wake-ups priced at a floor: the keepalive one when measured.
	local f=$WAKE_FLOOR what=floor fk fmin fmax
	if [ "$WAKE_FLOOR_KA" != null ]; then
		read -r fk fmin fmax <<<"$WAKE_FLOOR_KA"
		printf 'the same woken every %s ms, as the watchers (4 processes, %s wake-up(s) each): median %.3f ms CPU (%.3f to %.3f)\n' \
			"$((WATCH_KEEPALIVE * 1000))" "$(jq -r .wakes "$WORK/wake-ka1.json")" "$fk" "$fmin" "$fmax"
		f=$fk what="that floor"
	fi
	if [ "$f" != null ]; then
		awk -v f="$f" -v what="$what" -v wr="$wr" -v wm="$wm" -v c="$MQ_CPU_H" -v k="$MQ_CPU_HK" 'BEGIN {
			printf "wake-ups x %s: mqtts %.3f ms an hour (measured %.3f), mqtt %.3f (measured %.3f); the goal at this floor allows %.0f wake-ups an hour\n", what, wr * f, c, wm * f, k, 5 / f }'
	fi
	echo "goal: watch + MQTT CPU per idle hour <= 5 ms (default interval 60 s): $(verdict "$(awk -v c="$MQ_CPU_H" 'BEGIN { print (c != "null" && c <= 5) }')") ($(printf '%.3f' "$MQ_CPU_H" 2>/dev/null || echo "$MQ_CPU_H") ms)"
	echo "note: the same with interval = 1h (the keepalive alone): $(verdict "$(awk -v c="$MQ_CPU_HK" 'BEGIN { print (c != "null" && c <= 5) }')") ($(printf '%.3f' "$MQ_CPU_HK" 2>/dev/null || echo "$MQ_CPU_HK") ms)"

	printf '\nbytes per idle day on the uplink (IP packets both ways; a poll every 5 min = 288 a day)\n'
	printf '%-46s %12s %12s\n' what per_poll per_day
	printf '%-46s %12s %12s\n' "cron script (SORACOM, http)" "$BY_SCRIPT" "$((BY_SCRIPT * 288))"
	printf '%-46s %12s %12s\n' "cron sync (SORACOM, http)" "$BY_SORA" "$((BY_SORA * 288))"
	printf '%-46s %12s %12s\n' "cron sync (one native document, http)" "$BY_CRON" "$((BY_CRON * 288))"
	printf '%-46s %12s %12s\n' "cron sync (one native document, https)" "$BY_CRONS" "$((BY_CRONS * 288))"
	printf '%-46s %12s %12s\n' "watch + HTTP round (SORACOM, kept connection)" "$BY_WATCH" "(per round)"
	MQ_DAY=$(printf '%s' "$jp" | jq -r 'if .window_s then (.bytes / .window_s * 86400 | round) else "null" end')
	MQS_DAY=$(printf '%s' "$jx" | jq -r 'if .window_s then (.bytes / .window_s * 86400 | round) else "null" end')
	printf '%-46s %12s %12s\n' "watch + MQTT (mqtt, keepalive $WATCH_KEEPALIVE s)" "-" "$MQ_DAY"
	printf '%-46s %12s %12s\n' "watch + MQTT (mqtts, keepalive $WATCH_KEEPALIVE s)" "-" "$MQS_DAY"
	echo "ratio cron sync (native, http)/watch + MQTT (mqtt): $(ratio "$((BY_CRON * 288))" "$MQ_DAY"); (native, https)/(mqtts): $(ratio "$((BY_CRONS * 288))" "$MQS_DAY"); (SORACOM, http)/(mqtt): $(ratio "$((BY_SORA * 288))" "$MQ_DAY")"
	echo "goal: watch + MQTT <= 1/10 of cron sync's bytes per idle day (plain vs plain, TLS vs TLS): $(verdict "$(awk -v a="$MQ_DAY" -v b="$((BY_CRON * 288))" -v c="$MQS_DAY" -v d="$((BY_CRONS * 288))" 'BEGIN { print (a != "null" && c != "null" && 10 * a <= b && 10 * c <= d) }')")"

	printf '\nwatcher memory (kB)\n'
	printf '%-30s %10s %10s %6s %6s %8s %8s\n' what "rss@10" "rss@$WATCH_ROUNDS" "fd@10" "fd@$WATCH_ROUNDS" uss "p_dirty"
	printf '%-30s %10s %10s %6s %6s %8s %8s\n' "watch + HTTP (SORACOM)" "$MEM_RSS10" "$MEM_RSS1000" "$MEM_FD10" "$MEM_FD1000" "$MEM_USS_HTTP" "$MEM_PD_HTTP"
	printf '%-30s %10s %10s %6s %6s %8s %8s\n' "watch + MQTT (mqtts)" "-" "$MEM_RSS_MQTT" "-" "-" "$MEM_USS_MQTT" "$MEM_PD_MQTT"
	printf '%-30s %10s %10s %6s %6s %8s %8s\n' "floor: idle libcurl program" "-" "-" "-" "-" "$MEM_USS_FLOOR" "$MEM_PD_FLOOR"
	echo "(floor: bench/baseline/memfloor.c, linked with tunnelctl's shared libraries, asleep after curl_global_init and curl_easy_init; what any long-running libcurl process costs here before doing any work)"
	if [ "$MEM_PD_FLOOR" != - ]; then
		echo "above the floor: watch + HTTP private dirty +$((MEM_PD_HTTP - MEM_PD_FLOOR)) kB, USS +$((MEM_USS_HTTP - MEM_USS_FLOOR)) kB"
	fi
	echo "(USS: Private_Clean + Private_Dirty; p_dirty: Private_Dirty alone, what no other process can share or the kernel reclaim without swap)"
	echo "goal: watcher RSS flat over $WATCH_ROUNDS rounds: $(verdict "$(awk -v a="$MEM_RSS10" -v b="$MEM_RSS1000" -v f="$MEM_FD10" -v g="$MEM_FD1000" 'BEGIN { print (b - a <= 64 && f == g) }')") ($((MEM_RSS1000 - MEM_RSS10)) kB, descriptors $MEM_FD10 -> $MEM_FD1000)"
	echo "goal: watcher private memory (USS) <= 2 MiB: $(verdict "$(awk -v a="$MEM_USS_HTTP" -v b="$MEM_USS_MQTT" 'BEGIN { print (a <= 2048 && b <= 2048) }')") (HTTP $MEM_USS_HTTP kB, MQTT $MEM_USS_MQTT kB)"
}
