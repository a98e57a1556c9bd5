#!/bin/bash
# t_web.sh: the operator's web list, end to end with real parts. A server
# namespace runs sshd with the gate as docs/SERVER.md sets it up, and
# Debian's nginx with the shipped examples/nginx site (paths and domain
# substituted, nothing of /etc/nginx touched); devices in a device namespace
# open tunnels through the gate to an HTTP and a self-signed HTTPS admin
# page in a LAN namespace; the shipped update script (what
# tunnelctl-gate-web.service runs) writes the page and the map; headless
# Chromium loads the list through nginx with basic auth. Proves: the units
# verify; the list and every tunnel name need the password (and a name's
# liveness is not told before it); one row per live session with its link;
# a click-through reaches the HTTP and the HTTPS target; no password, no
# cross-domain cookie and no address redirect leaks through; hostile claims
# run no script; a closed or kill -9'd session leaves page and route within
# 2 s of the regeneration; a map nginx refuses keeps the old one. Keeps a
# screenshot in $TC_BUILDDIR/tests/artefacts/. Root. TAP on stdout.
. "$(dirname "$0")/lib.sh"

need_root
for c in setpriv openssl python3 curl ip flock; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX_BIN" ] || skip_all "nginx not installed (apt-get install nginx)"
CHROMIUM=$(command -v chromium || true)
EX=$TC_SRCDIR/examples/nginx
DOMAIN=tunnels.example.net
ART=$TC_BUILDDIR/tests/artefacts
mkdir -p "$ART"

W=$(mktemp -d /tmp/tcweb.XXXXXX)
chmod 755 "$W"
at_exit "rm -rf $W"

# --- the shipped units ----------------------------------------------------------
for f in tunnelctl-gate.nginx tunnelctl-gate-web-update tunnelctl-gate-web.service \
	tunnelctl-gate-web.path tunnelctl-gate-web.timer README.md; do
	check "examples/nginx/$f exists" test -s "$EX/$f"
done
if command -v systemd-analyze >/dev/null; then
	mkdir "$W/units"
	for u in tunnelctl-gate-web.service tunnelctl-gate-web.path tunnelctl-gate-web.timer; do
		sed "s|/usr/local/sbin/tunnelctl-gate-web-update|$EX/tunnelctl-gate-web-update|" "$EX/$u" >"$W/units/$u"
	done
	for u in tunnelctl-gate-web.service tunnelctl-gate-web.path tunnelctl-gate-web.timer; do
		(cd "$W/units" && systemd-analyze verify --man=no "$W/units/$u") >"$W/verify.out" 2>&1
		rc=$?
		if [ "$rc" = 0 ] && ! grep -q -e "$W/units" -e tunnelctl "$W/verify.out"; then
			ok "systemd-analyze verify $u"
		else
			not_ok "systemd-analyze verify $u (rc=$rc)"
			diag "$(cat "$W/verify.out")"
		fi
	done
else
	skip "systemd-analyze not installed: units not verified"
fi
U_SVC=$EX/tunnelctl-gate-web.service
check "the service runs the update script" grep -qx 'ExecStart=/usr/local/sbin/tunnelctl-gate-web-update' "$U_SVC"
check "the service sets the domain the script reads" grep -qx 'Environment=TUNNELCTL_WEB_DOMAIN=tunnels.example.com' "$U_SVC"
check "the service has no start limit (bursts must not stop the .path unit)" grep -qx 'StartLimitIntervalSec=0' "$U_SVC"
check "the .path unit watches the registry" grep -qx 'PathChanged=/run/tunnelctl-gate' "$EX/tunnelctl-gate-web.path"
check "the .path unit starts the service" grep -qx 'Unit=tunnelctl-gate-web.service' "$EX/tunnelctl-gate-web.path"
check "the timer runs it every minute, to the second" bash -c \
	'grep -qx "OnUnitActiveSec=1min" "$1" && grep -qx "AccuracySec=1s" "$1" && grep -q "^OnBootSec=" "$1"' _ "$EX/tunnelctl-gate-web.timer"
"$EX/tunnelctl-gate-web-update" >/dev/null 2>"$W/nodomain.err" </dev/null
is "$?" 1 "the update script without a domain fails"
check "... saying what to set" grep -q "TUNNELCTL_WEB_DOMAIN is not set" "$W/nodomain.err"

# --- the world: server, device and LAN namespaces --------------------------------
three_hosts web
webgrp=www-data
getent group "$webgrp" >/dev/null || webgrp=
gate_account "$W" "$webgrp"
[ -n "$webgrp" ] || webgrp=$U

# Four devices; site_7's id is not a DNS label, so its tunnel gets no name.
# LONGDEV's tunnel has a name of 116 bytes: past what nginx's default map
# bucket holds (a long id, a long tunnel name and a long domain are normal).
LONGDEV=$(printf 'gateway-%055d' 42)
LONGTUN=inverter-admin-page-of-cabinet-a
for d in edge-0042 edge-0043 site_7 "$LONGDEV"; do
	ssh-keygen -q -t ed25519 -N '' -C "$d" -f "$W/$d" </dev/null || skip_all "ssh-keygen"
	"$GATE" authorized-key --device "$d" --ports 0 --registry "$REG" <"$W/$d.pub" >>"$SSHD/authorized_keys" ||
		skip_all "authorized-key $d"
done
sed -e "s|^Match User tunnel\$|Match User $U|" -e '/^# TrustedUserCAKeys/d' -e '/AuthorizedPrincipalsFile/d' \
	"$TC_SRCDIR/examples/gate/tunnelctl-gate.sshd.conf" >>"$SSHD/sshd_config"
# sshd reads authorized_keys as the account's user.
chmod 755 "$WORK" "$SSHD"
chmod 644 "$SSHD/authorized_keys"
sshd_restart "$SSHD" || skip_all "sshd did not restart with the gate's Match block"
echo "203.0.113.1 $HK" >"$W/known_hosts"

# The LAN: an inverter's HTTPS page (self-signed, port 443) and a logger's
# HTTP page (port 80), both at 192.0.2.50.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=192.0.2.50" \
	-keyout "$W/lan.key" -out "$W/lan.pem" >/dev/null 2>&1 || skip_all "openssl req"
TOK_HTTPS=inverter-$$-$RANDOM
TOK_HTTP=logger-$$-$RANDOM
ip netns exec "$LAN" python3 "$TC_SRCDIR/tests/helpers/lanweb.py" 192.0.2.50 443 "$TOK_HTTPS" "$W/lan.pem" "$W/lan.key" &
at_exit "kill $!"
ip netns exec "$LAN" python3 "$TC_SRCDIR/tests/helpers/lanweb.py" 192.0.2.50 80 "$TOK_HTTP" &
at_exit "kill $!"
wait_port 192.0.2.50 443 5 "$LAN" && wait_port 192.0.2.50 80 5 "$LAN" || skip_all "LAN pages did not start"

# device_session NAME KEY TUNNEL TARGET [EXPIRES]: one device's tunnel
# through the gate: tunnelctl itself, in the device namespace, with the
# device's key, `start TUNNEL --gate` to TARGET on the LAN with a remote
# port the server allocates (0), a timeout to EXPIRES; its own state dir
# $W/dev.NAME, stopped at exit.
device_session() {
	local name=$1 key=$2 tunnel=$3 target=$4 expires=${5:-0} t=()
	[ "$expires" != 0 ] && t=(--timeout "$((expires - $(date +%s)))")
	ip netns exec "$DEV" "$TC_BIN" --state-dir "$W/dev.$name" --settings /dev/null start "$tunnel" \
		--server "$U@203.0.113.1" --remote-port 0 --target "$target" --gate --key "$W/$key" \
		--host-key "$HK" "${t[@]}" >"$W/dev.$name.start" 2>&1
	at_exit "ip netns exec $DEV $TC_BIN --state-dir $W/dev.$name --settings /dev/null -q stop --all"
}
# dev_state NAME: the state of device NAME's tunnel, as tunnelctl reports it.
dev_state() {
	ip netns exec "$DEV" "$TC_BIN" --state-dir "$W/dev.$1" --settings /dev/null status --json 2>/dev/null |
		python3 -c 'import json, sys; t = json.load(sys.stdin)["tunnels"]; print(t[0]["state"] if t else "")'
}
# raw_session NAME KEY TUNNEL TARGET [EXPIRES]: what a device that never
# comes back looks like (plain ssh sending the hello `start --gate` sends).
raw_session() {
	device_ssh "$1" "$2" "$4" "tunnelctl-gate hello 1 tunnel=$3 target=$4 expires=${5:-0}"
}
# device_ssh NAME KEY TARGET HELLO: the ssh of a device that sends HELLO as
# it is (a hostile device sends what it wants; tunnelctl would not).
device_ssh() {
	local name=$1 key=$2 target=$3 hello=$4
	rm -f "$W/dev.$name.out" "$W/dev.$name.rc"
	(
		ip netns exec "$DEV" ssh -n -F none -i "$W/$key" -o IdentitiesOnly=yes \
			-o UserKnownHostsFile="$W/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
			-o ExitOnForwardFailure=yes -o ServerAliveInterval=2 -R "127.0.0.1:0:$target" \
			"$U@203.0.113.1" "$hello" >/dev/null 2>"$W/dev.$name.out"
		echo $? >"$W/dev.$name.rc"
	) &
	at_exit "kill $! 2>/dev/null"
}
device_registered() {
	grep -q "^tunnelctl-gate: registered" "$W/dev.$1.out" 2>/dev/null || [ "$(dev_state "$1")" = up ]
}
device_ended() { [ -s "$W/dev.$1.rc" ]; }
# jlist: "DEVICE/TUNNEL PORT PID" per live session, from list --json.
jlist() {
	"$GATE" list --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sessions"]:
    print("%s/%s %s %s" % (s["device"], s["tunnel"], s["ports"][0] if s["ports"] else "-", s["pid"]))'
}
port_of() { jlist | awk -v k="$1" '$1 == k { print $2 }'; }
pid_of() { jlist | awk -v k="$1" '$1 == k { print $3 }'; }

# --- nginx with the shipped site ----------------------------------------------
T=$W/web-server
mkdir -p "$T/ssl" "$T/sites" "$T/tmp" "$T/web"
chmod 755 "$T" "$T/web"
# A test CA, and one certificate for the list's name and every device's
# tunnels: *.tunnels.example.net would not match TUNNEL.DEVICE.tunnels.example.net.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=tunnelctl t_web CA $$" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign -keyout "$T/ssl/ca.key" -out "$T/ssl/ca.pem" >/dev/null 2>&1 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$DOMAIN" \
		-keyout "$T/ssl/privkey.pem" -out "$T/ssl/leaf.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:%s,DNS:*.edge-0042.%s,DNS:*.edge-0043.%s,DNS:*.edge-0099.%s,DNS:*.%s.%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
		"$DOMAIN" "$DOMAIN" "$DOMAIN" "$DOMAIN" "$LONGDEV" "$DOMAIN" >"$T/ssl/ext" &&
	openssl x509 -req -in "$T/ssl/leaf.csr" -CA "$T/ssl/ca.pem" -CAkey "$T/ssl/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/ssl/ext" -out "$T/ssl/fullchain.pem" >/dev/null 2>&1 ||
	skip_all "cannot make the test certificates"
PASS=pw-$$-$RANDOM
printf 'field:%s\n' "$(openssl passwd -apr1 "$PASS")" >"$T/htpasswd"
chgrp "$webgrp" "$T/htpasswd"
chmod 640 "$T/htpasswd"
# The site as docs/SERVER.md installs it: the domain by one sed, and here
# the machine's paths moved into this test's directory.
sed -e "s/tunnels\.example\.com/$DOMAIN/g" -e "s|/var/lib/tunnelctl-gate-web|$T/web|g" \
	-e "s|/etc/ssl/tunnelctl-gate|$T/ssl|g" -e "s|/etc/nginx/tunnelctl-gate.htpasswd|$T/htpasswd|g" \
	"$EX/tunnelctl-gate.nginx" >"$T/tunnelctl-gate.conf"
check "the substituted site names no path of this machine" bash -c '! grep -v "^[[:space:]]*#" "$1" | grep -nE "/(etc|var|run)/"' _ "$T/tunnelctl-gate.conf"
check "the substituted site names only the test domain" bash -c '! grep -n "example\.com" "$1"' _ "$T/tunnelctl-gate.conf"
wuser="www-data www-data"
getent passwd www-data >/dev/null || wuser="nobody nogroup"
# Like Debian's nginx.conf: the sites are included inside http{}. The
# workers run as the web server's user, as on a real server.
cat >"$T/nginx.conf" <<EOF
user $wuser;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $T/access.log;
	client_body_temp_path $T/tmp/body;
	proxy_temp_path $T/tmp/proxy;
	fastcgi_temp_path $T/tmp/fastcgi;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	include $T/sites/*;
}
EOF
NGINX="$NGINX_BIN -p $T/ -e $T/error.log -c $T/nginx.conf"
ip netns exec "$SRV" $NGINX -g 'daemon off;' </dev/null >>"$T/nginx.out" 2>&1 &
NGINX_PID=$!
nginx_stop() {
	local kids
	kids=$(cat /proc/"$NGINX_PID"/task/*/children 2>/dev/null)
	kill -TERM "$NGINX_PID" 2>/dev/null
	# Gone, or a zombie until this shell reaps it: the workers are gone too.
	wait_for 5 bash -c '! grep -qs "^State:[[:space:]]*[^Z]" /proc/"$1"/status' _ "$NGINX_PID"
	# shellcheck disable=SC2086
	kill -KILL "$NGINX_PID" $kids 2>/dev/null
}
at_exit nginx_stop
check "nginx starts in the server namespace (no site yet)" wait_for 5 test -s "$T/nginx.pid"

# update: what tunnelctl-gate-web.service runs, with the unit's settings and
# this test's paths; its stderr in $W/update.err, its time in UPDATE_MS.
update() {
	local t0 rc
	t0=$(date +%s%N)
	insrv env TUNNELCTL_WEB_DOMAIN="$DOMAIN" TUNNELCTL_WEB_DIR="$T/web" TUNNELCTL_WEB_NGINX="$NGINX" \
		TUNNELCTL_WEB_GATE="${WEB_GATE:-$GATE}" TUNNELCTL_GATE_REGISTRY="$REG" TZ=Europe/Berlin \
		"$EX/tunnelctl-gate-web-update" 2>"$W/update.err"
	rc=$?
	UPDATE_END=$(date +%s%N)
	UPDATE_MS=$(((UPDATE_END - t0) / 1000000))
	cat "$W/update.err" >>"$W/update.all"
	return $rc
}

# docs/SERVER.md's order: run the service once, then enable the site.
update
is "$?" 0 "the first run writes the map and the page (nginx reloads)"
[ -s "$W/update.err" ] && diag "$(cat "$W/update.err")"
is "$(stat -c %a "$T/web/map.conf" 2>/dev/null) $(stat -c %a "$T/web/html/index.html" 2>/dev/null)" "644 644" \
	"map and page are readable by nginx's workers (0644)"
check "no temporary file left" bash -c '[ -z "$(find "$1" -name "*.??????")" ]' _ "$T/web"
ln -s "$T/tunnelctl-gate.conf" "$T/sites/tunnelctl-gate"
check "nginx -t accepts the shipped site" insrv $NGINX -t -q
insrv $NGINX -s reload
# curl in the server namespace, every name resolved to its loopback,
# checking nginx's certificate against the test CA.
ncurl() {
	local host=$1
	shift
	insrv curl -s --max-time 10 --cacert "$T/ssl/ca.pem" --resolve "$host:443:127.0.0.1" \
		--resolve "$host:80:127.0.0.1" "$@"
}
# code HOST PATH [CURL ARGS...]: the HTTP status of https://HOST/PATH.
code() {
	local host=$1 path=$2
	shift 2
	ncurl "$host" -o /dev/null -w '%{http_code}' "$@" "https://$host$path"
}
wait_for 5 bash -c '[ "$(insrv curl -s -o /dev/null -w "%{http_code}" --cacert "$1" --resolve "$2:443:127.0.0.1" "https://$2/")" = 401 ]' \
	_ "$T/ssl/ca.pem" "$DOMAIN"
is "$(code "$DOMAIN" /)" 401 "the list needs the password (401 without)"
is "$(code "$DOMAIN" / -u "field:wrong")" 401 "... and a wrong one is refused"
is "$(code "$DOMAIN" / -u "field:$PASS")" 200 "... and the right one opens it"
ncurl "$DOMAIN" -u "field:$PASS" -D "$W/list.hdr" -o "$W/empty.html" "https://$DOMAIN/"
check "with no session the page says so plainly" grep -q "No tunnels are open right now." "$W/empty.html"
check "the list is sent with a policy that forbids every script" \
	grep -qi "^content-security-policy: default-src 'none'; style-src 'unsafe-inline';" "$W/list.hdr"
check "... and is never cached" grep -qi "^cache-control: no-store" "$W/list.hdr"
is "$(ncurl "$DOMAIN" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$DOMAIN/x")" "301 https://$DOMAIN/x" \
	"plain http is sent to https"
is "$(code "$DOMAIN" /map.conf -u "field:$PASS")" 404 "nothing but the page is served"

# --- sessions from devices --------------------------------------------------------
# One after the other: sessions whose ports sshd allocates (-R 0) and that
# arrive in the same instant cannot be told apart by the gate, which then
# refuses them (tunnelctl-gate(8), "How serve finds its ports").
# open_session [raw] NAME KEY TUNNEL TARGET [EXPIRES]: device_session (or
# raw_session), then wait until the gate registered it.
open_session() {
	local how=device_session
	[ "$1" = raw ] && { how=raw_session; shift; }
	$how "$@"
	if wait_for 15 device_registered "$1"; then
		ok "device session $1 ($3) registers"
	else
		not_ok "device session $1 ($3) registers"
		diag "$(cat "$W/dev.$1.out" "$W/dev.$1.start" 2>/dev/null)"
	fi
}
now=$(date +%s)
open_session inv edge-0042 inverter-web 192.0.2.50:443 $((now + 2 * 3600 + 300))
open_session log edge-0042 logger 192.0.2.50:80
open_session und edge-0043 web_ui 192.0.2.50:80
open_session raw plc edge-0043 plc 192.0.2.50:80 $((now + 300))
open_session s7 site_7 web 192.0.2.50:80
open_session lng "$LONGDEV" "$LONGTUN" 192.0.2.50:80
# Hostile devices: a tunnel name or claimed target with markup. The gate's
# hello grammar refuses both before anything is recorded.
device_ssh hn edge-0043 192.0.2.50:80 "tunnelctl-gate hello 1 tunnel=<script>document.title='pwned'</script> target=192.0.2.50:80 expires=0"
device_ssh ht edge-0043 192.0.2.50:80 "tunnelctl-gate hello 1 tunnel=x target=<script>document.title='pwned'</script>:80 expires=0"
for d in hn ht; do
	check "a device claiming <script> ($d) is refused" wait_for 15 device_ended "$d"
	check "... told why (exit $(cat "$W/dev.$d.rc" 2>/dev/null))" grep -q "^tunnelctl-gate: refused: " "$W/dev.$d.out"
done
# What a device cannot claim, a record could still hold if someone with the
# devices' account wrote it: a live record (its "serve" a process of the
# account) whose claimed target is markup, to show that the page escapes
# it and nothing runs. Its port has nothing listening. Records whose tunnel
# name is markup are refused by list's strict reading.
setpriv --reuid "$U" --regid "$U" --clear-groups sleep 600 </dev/null >/dev/null 2>&1 &
FAKE_PID=$!
at_exit "kill $FAKE_PID"
FAKE_PORT=$(insrv python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOSTILE="<script>document.title='pwned'</script>"
forge() {
	python3 - "$REG/$1.json" "$1" "$2" "$3" "$4" "$FAKE_PID" "$FAKE_PORT" <<'PY'
import json, sys, time
path, rid, dev, tun, target, pid, port = sys.argv[1:]
start = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[19]
rec = {"id": rid, "device": dev, "tunnel": tun, "target": target, "ports": [int(port)],
       "bind": "127.0.0.1", "client": "198.51.100.9", "started_at": int(time.time()),
       "expires_at": 0, "pid": int(pid), "starttime": int(start), "session_pid": int(pid),
       "inodes": []}
open(path, "w").write(json.dumps(rec))
PY
	chown "$U:$webgrp" "$REG/$1.json"
	chmod 640 "$REG/$1.json"
}
forge 0000000000000f01 edge-0099 probe "$HOSTILE:80"
forge 0000000000000f02 edge-0099 "$HOSTILE" "192.0.2.50:80"
jlist >"$W/live"
check "the record with markup in its target is live" grep -q "^edge-0099/probe " "$W/live"
check "the record with markup in its tunnel name is not (strict reading)" bash -c '! grep -q script "$1"' _ "$W/live"
diag "live sessions: $(tr '\n' ';' <"$W/live")"
is "$(wc -l <"$W/live")" 7 "seven live sessions"

update
is "$?" 0 "regeneration with seven sessions (${UPDATE_MS} ms)"
check "the map warns about the names it cannot route" grep -q "edge-0043/web_ui): no host name" "$W/update.err"
PINV=$(port_of edge-0042/inverter-web)
PLOG=$(port_of edge-0042/logger)
PPLC=$(port_of edge-0043/plc)
PLNG=$(port_of "$LONGDEV/$LONGTUN")
LNG=$LONGTUN.$LONGDEV.$DOMAIN
cat >"$W/map.want" <<EOF
inverter-web.edge-0042.$DOMAIN https://127.0.0.1:$PINV;
logger.edge-0042.$DOMAIN http://127.0.0.1:$PLOG;
plc.edge-0043.$DOMAIN http://127.0.0.1:$PPLC;
probe.edge-0099.$DOMAIN http://127.0.0.1:$FAKE_PORT;
$LNG http://127.0.0.1:$PLNG;
EOF
if diff "$W/map.want" "$T/web/map.conf" >"$W/map.diff"; then
	ok "the map routes every nameable session, https for the 443 target"
else
	not_ok "the map routes every nameable session, https for the 443 target"
	diag "$(cat "$W/map.diff")"
fi

# --- the click-through, with curl -------------------------------------------------
INV=inverter-web.edge-0042.$DOMAIN
LOG=logger.edge-0042.$DOMAIN
ncurl "$INV" -u "field:$PASS" -o "$W/inv.html" "https://$INV/"
check "an HTTPS target with a self-signed certificate is reached through nginx" grep -q "$TOK_HTTPS" "$W/inv.html"
ncurl "$LOG" -u "field:$PASS" -o "$W/log.html" "https://$LOG/"
check "an HTTP target is reached through nginx" grep -q "$TOK_HTTP" "$W/log.html"
ncurl "$LNG" -u "field:$PASS" -o "$W/lng.html" "https://$LNG/"
check "a name of ${#LNG} bytes routes too" grep -q "$TOK_HTTP" "$W/lng.html"
check "the operator's password does not reach the device" grep -q "authorization:no" "$W/log.html"
check "the target is asked for an address as Host (127.0.0.1:PORT)" grep -q "<p id=host>127.0.0.1:$PLOG</p>" "$W/log.html"
is "$(code "$LOG" /)" 401 "a tunnel's name needs the password"
is "$(code "web_ui.edge-0043.$DOMAIN" / -k)" 401 "a name with no route needs the password too (its state is not told)"
is "$(code "gone.edge-0042.$DOMAIN" /)" 401 "... and so does a name that was never open"
is "$(code "gone.edge-0042.$DOMAIN" / -u "field:$PASS")" 404 "with the password, a name that is not open is a 404"
ncurl "gone.edge-0042.$DOMAIN" -u "field:$PASS" -o "$W/notopen.html" "https://gone.edge-0042.$DOMAIN/"
check "... saying so, with the way back to the list" \
	bash -c 'grep -q "This tunnel is not open" "$1" && grep -qF "href=\"https://$2/\"" "$1"' _ "$W/notopen.html" "$DOMAIN"
loc=$(ncurl "$LOG" -u "field:$PASS" -o /dev/null -w '%{redirect_url}' "https://$LOG/redirect")
is "$loc" "https://$LOG/login" "a redirect to the device's own address stays on the tunnel's name"
ncurl "$LOG" -u "field:$PASS" -D "$W/cookie.hdr" -o /dev/null "https://$LOG/cookie?domain=$DOMAIN"
check "a cookie for the whole domain is narrowed to the tunnel's name" grep -qi "^set-cookie: s=1; Domain=$LOG;" "$W/cookie.hdr"
is "$(code "probe.edge-0099.$DOMAIN" / -u "field:$PASS")" 502 "a route whose port does not answer: 502"
ncurl "probe.edge-0099.$DOMAIN" -u "field:$PASS" -o "$W/unreach.html" "https://probe.edge-0099.$DOMAIN/"
check "... with a page that says so in plain words" grep -q "page does not answer" "$W/unreach.html"

# --- a real browser -------------------------------------------------------------
# chromium URL [FLAGS...]: headless Chromium in the server namespace, every
# name resolved to its loopback, nginx's certificate pinned by its key; the
# DOM on stdout.
SPKI=$(openssl x509 -in "$T/ssl/fullchain.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
chromium() {
	local url=$1 prof
	shift
	prof=$(mktemp -d "$W/chrome.XXXXXX")
	insrv env HOME="$prof" timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --host-resolver-rules="MAP * 127.0.0.1" \
		--ignore-certificate-errors-spki-list="$SPKI" "$@" "$url" 2>>"$W/chromium.err"
}
# dom_facts FILE: what a person sees on the list, from Chromium's DOM: the
# title, how many script elements, and per row the cells' text and link.
dom_facts() {
	python3 - "$1" <<'PY'
import html.parser, json, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.title = ""; self.scripts = 0; self.rows = []; self.where = None; self.text = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script": self.scripts += 1
        if tag == "title": self.where = "title"
        if tag == "tbody": self.where = "tbody"
        if self.where == "tbody":
            if tag == "tr": self.rows.append({"cells": {}, "links": []})
            if tag == "td": self.cell = a.get("data-label"); self.text = []
            if tag == "a": self.rows[-1]["links"].append(a.get("href"))
    def handle_endtag(self, tag):
        if tag == "title": self.where = None
        if tag == "tbody": self.where = None
        if tag == "td" and self.where == "tbody": self.rows[-1]["cells"][self.cell] = "".join(self.text).strip()
    def handle_data(self, d):
        if self.where == "title": self.title += d
        else: self.text.append(d)
p = P(); p.feed(open(sys.argv[1]).read())
print(json.dumps({"title": p.title, "scripts": p.scripts, "rows": p.rows}))
PY
}
if [ -z "$CHROMIUM" ]; then
	skip "chromium not installed (apt-get install chromium): browser checks not run"
else
	c0=$(date +%s%N)
	chromium "https://field:$PASS@$DOMAIN/" --window-size=1280,800 --screenshot="$ART/web-list.png" \
		--dump-dom >"$W/list.dom"
	diag "chromium (DOM and screenshot) took $((($(date +%s%N) - c0) / 1000000)) ms"
	cp "$W/list.dom" "$ART/web-list.dom.html"
	dom_facts "$W/list.dom" >"$W/list.json"
	check "the browser got the list with the password in the URL" grep -q "tunnels are open" "$W/list.dom"
	python3 - "$W/list.json" "$W/live" "$DOMAIN" >"$W/dom.check" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1])); dom = sys.argv[3]
live = sorted(l.split()[0] for l in open(sys.argv[2]))
rows = d["rows"]
seen = sorted("%s/%s" % (r["cells"].get("Device"), r["cells"].get("Tunnel")) for r in rows)
def row(dev, tun):
    return [r for r in rows if r["cells"].get("Device") == dev and r["cells"].get("Tunnel") == tun]
def cell(dev, tun, label):
    return row(dev, tun)[0]["cells"][label]
def links(dev, tun):
    return row(dev, tun)[0]["links"]
checks = [
    ("one row per live session, and no other", lambda: seen == live),
    ("the title is the page's own", lambda: d["title"] == "Open maintenance tunnels"),
    ("no script element in the DOM", lambda: d["scripts"] == 0),
    ("the HTTPS tunnel's link", lambda: links("edge-0042", "inverter-web") == ["https://inverter-web.edge-0042.%s/" % dom]),
    ("the HTTP tunnel's link", lambda: links("edge-0042", "logger") == ["https://logger.edge-0042.%s/" % dom]),
    ("a tunnel name with '_' has no link, and the row says why",
     lambda: links("edge-0043", "web_ui") == [] and "cannot be a web address" in cell("edge-0043", "web_ui", "Web page")),
    ("a device id that is no DNS label gives no link", lambda: links("site_7", "web") == []),
    ("the claimed target shows as the device's text, escaped",
     lambda: cell("edge-0099", "probe", "Reaches (as the device says)") == "<script>document.title='pwned'</script>:80"),
    ("target and port shown", lambda: cell("edge-0042", "logger", "Reaches (as the device says)") == "192.0.2.50:80"
     and cell("edge-0042", "logger", "Server port").isdigit()),
    ("the closing time with the time left, zone stated",
     lambda: re.search(r"\bC[ES]{1,2}T \(2 hours [45] minutes left\)$", " ".join(cell("edge-0042", "inverter-web", "Closes").split()))),
    ("a session without expiry says so", lambda: cell("edge-0042", "logger", "Closes") == "no time limit"),
    ("every link is https://TUNNEL.DEVICE.DOMAIN/",
     lambda: rows and all(l.startswith("https://") and l.endswith("." + dom + "/") for r in rows for l in r["links"])),
]
for name, test in checks:
    try:
        good = bool(test())
    except Exception as e:
        good = False
        print("# %s: %r" % (name, e))
    print(("ok " if good else "not ok ") + name)
    if not good:
        print("# rows: %s" % (rows,))
PY
	while read -r line; do
		case $line in
		"ok "*) ok "browser DOM: ${line#ok }" ;;
		"not ok "*) not_ok "browser DOM: ${line#not ok }" ;;
		*) diag "$line" ;;
		esac
	done <"$W/dom.check"
	is "$(grep -c '^\(not \)\?ok ' "$W/dom.check")" 12 "all twelve DOM checks ran"
	check "the page states its time zone (TZ=Europe/Berlin)" grep -qE "Times are in CES?T \(UTC\+0[12]:00\)" "$W/list.dom"
	check "five minutes left is shown in red" grep -q 'class="left soon">(4 minutes left)\|class="left soon">(5 minutes left)' "$W/list.dom"
	check "screenshot kept: $ART/web-list.png" bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ]' _ "$ART/web-list.png"
	chromium "https://field:$PASS@$DOMAIN/" --window-size=390,844 --screenshot="$ART/web-list-phone.png" >/dev/null
	check "phone-sized screenshot kept: $ART/web-list-phone.png" test -s "$ART/web-list-phone.png"
	# The click-through in the browser: the link's name, through nginx, to
	# the inverter's self-signed HTTPS page on the LAN.
	chromium "https://field:$PASS@$INV/" --dump-dom >"$W/inv.dom"
	check "the browser follows a link to the HTTPS target's own page" grep -q "<p id=\"token\">$TOK_HTTPS</p>" "$W/inv.dom"
	# Were the page ever to let markup through, the list's policy would still
	# stop it: a page with a raw script, served where the list is.
	cp "$T/web/html/index.html" "$W/index.keep"
	printf '<!DOCTYPE html><html><head><title>Open maintenance tunnels</title></head><body><p>%s</p></body></html>\n' \
		"$HOSTILE" >"$T/web/html/index.html"
	chromium "https://field:$PASS@$DOMAIN/" --dump-dom >"$W/csp.dom"
	dom_facts "$W/csp.dom" >"$W/csp.json"
	check "a raw script on the list's page does not run (its policy): the title stays" \
		python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["scripts"] == 1 and d["title"] == "Open maintenance tunnels"))' "$W/csp.json"
	cp "$W/index.keep" "$T/web/html/index.html"
fi

# --- a session closes: row and route gone within 2 s of the regeneration ------------
"$GATE" close edge-0042/logger --reason "work done" >/dev/null
told_revoked() { [ "$(dev_state log)" = revoked ]; }
check "closed: the device is told (its tunnel is revoked)" wait_for 5 told_revoked
update
is "$?" 0 "regeneration after the close (${UPDATE_MS} ms)"
gone() {
	! ncurl "$DOMAIN" -u "field:$PASS" "https://$DOMAIN/" | grep -q ">logger<" &&
		[ "$(code "$LOG" / -u "field:$PASS")" = 404 ]
}
wait_for 5 gone
ms=$((($(date +%s%N) - UPDATE_END) / 1000000))
check "the closed session's row and route are gone ${ms} ms after the regeneration" test "$ms" -lt 2000
is "$(ncurl "$INV" -u "field:$PASS" "https://$INV/" | grep -c "$TOK_HTTPS")" 1 "the other sessions' routes still work"

# A serve killed with -9 leaves its record; nothing on disk changes, so only
# the timer's next run notices: list drops the record, the run removes it.
kpid=$(pid_of edge-0043/plc)
check "the session to kill is listed" test -n "$kpid"
kill -9 "$kpid"
update
is "$?" 0 "regeneration after kill -9 of a serve (${UPDATE_MS} ms)"
gone_plc() {
	! ncurl "$DOMAIN" -u "field:$PASS" "https://$DOMAIN/" | grep -q ">plc<" &&
		[ "$(code "plc.edge-0043.$DOMAIN" / -u "field:$PASS")" = 404 ]
}
wait_for 5 gone_plc
ms=$((($(date +%s%N) - UPDATE_END) / 1000000))
check "the killed session's row and route are gone ${ms} ms after the regeneration" test "$ms" -lt 2000

check "nginx logged no emergency, alert or critical error" bash -c '! grep -E "\[(emerg|alert|crit)\]" "$1"' _ "$T/error.log"
errlines=$(wc -l <"$T/error.log")

# --- a map that nginx refuses keeps the old one ----------------------------------------
cp "$T/web/map.conf" "$W/map.before"
cat >"$W/badgate" <<EOF
#!/bin/sh
case " \$* " in
*" --nginx-map "*) echo "this is not a map line" ;;
*) exec "$GATE" "\$@" ;;
esac
EOF
chmod 755 "$W/badgate"
WEB_GATE=$W/badgate update
is "$?" 1 "a map that nginx -t refuses fails the run"
check "... saying the old map is kept" grep -q "the old map is kept" "$W/update.err"
check "... and the old map is back in place" cmp -s "$W/map.before" "$T/web/map.conf"
is "$(ncurl "$INV" -u "field:$PASS" "https://$INV/" | grep -c "$TOK_HTTPS")" 1 "... and the routes still work"
update
is "$?" 0 "the next good run goes through"

# --- everything closed: the empty page ---------------------------------------------
"$GATE" close edge-0042 >/dev/null
"$GATE" close edge-0043 >/dev/null
"$GATE" close site_7 >/dev/null
"$GATE" close "$LONGDEV" >/dev/null
kill "$FAKE_PID"
no_sessions() { [ -z "$(jlist)" ]; }
wait_for 5 no_sessions
update
ncurl "$DOMAIN" -u "field:$PASS" -o "$W/empty2.html" "https://$DOMAIN/"
check "with every session gone the page says no tunnel is open" grep -q "No tunnels are open right now." "$W/empty2.html"
is "$(wc -c <"$T/web/map.conf")" 0 "and the map is empty"
inv_gone() { [ "$(code "$INV" / -u "field:$PASS")" = 404 ]; }
check "and no name routes any more (once nginx has reloaded)" wait_for 2 inv_gone

check "nginx logged no error but the refused map's" bash -c \
	'tail -n +$(($2 + 1)) "$1" | grep -E "\[(emerg|alert|crit)\]" | grep -v "map.conf:" | { ! grep .; }' _ "$T/error.log" "$errlines"
# With the sanitized build, ASan/UBSan report on stderr: what devices were
# told, and what the update script's list runs printed.
check "no sanitizer report from serve or list" bash -c '! grep -l "Sanitizer\|runtime error" "$@"' _ \
	"$W"/dev.*.out "$W/update.all"
diag "screenshots: $ART/web-list.png $ART/web-list-phone.png"
done_testing
