#!/bin/bash
# t_examples.sh: the files in examples/ are usable as shipped: the systemd
# units pass systemd-analyze verify, the playbook passes ansible's syntax
# check, the JSON documents parse and (with tests/helpers/docctl) validate
# for the devices they name, their private keys are placeholders, and the
# settings file and cron line use only known keys and options.
# Needs no root and no network. Steps whose tool is missing are skipped. TAP.

set -u

TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TC_SRCDIR/tests/integration/lib.sh"
TC_BUILDDIR=${TC_BUILDDIR:-$TC_SRCDIR}
TC_BIN=${TC_BIN:-$TC_BUILDDIR/bin/tunnelctl}
EX=$TC_SRCDIR/examples
DOCCTL=$TC_BUILDDIR/tests/helpers/docctl


tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_examples.XXXXXX") || exit 1
at_exit "rm -rf '$tmp'"

units="tunnelctl-sync.service tunnelctl-sync.timer tunnelctl@.service tunnelctl-watch.service"
docs="tunnels-native.json userdata-soracom.json"
for f in $units $docs tunnelctl.conf tunnelctl.cron tunnelctl-playbook.yml \
	config-server.md README.md; do
	check "examples/$f exists" test -s "$EX/$f"
done

# ---- JSON documents ---------------------------------------------------

if command -v python3 >/dev/null 2>&1; then
	for f in $docs; do
		check "$f parses (python3 -m json.tool)" \
			python3 -m json.tool "$EX/$f" /dev/null
	done
	# No real key may ever be committed: every key must decode to the
	# placeholder PEM whose body is "AAAA".
	for f in $docs; do
		if python3 - "$EX/$f" <<'EOF'
import base64, json, sys
want = ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----\n")
def keys(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("private_key", "privateKey"):
                yield v
            else:
                yield from keys(v)
    elif isinstance(o, list):
        for v in o:
            yield from keys(v)
found = list(keys(json.load(open(sys.argv[1]))))
for k in found:
    if not k.startswith("-----"):
        k = base64.b64decode(k, validate=True).decode()
    if k != want:
        sys.exit(1)
sys.exit(0 if found else 1)
EOF
		then
			ok "$f: every private key is the placeholder"
		else
			not_ok "$f: every private key is the placeholder"
		fi
	done
else
	skip "python3 not installed: JSON not parsed"
fi

# docctl FILE ID exits 0 on a valid document. It is only trusted once it
# rejects garbage, so a stub that accepts everything proves nothing.
docctl_works() {
	[ -x "$DOCCTL" ] || return 1
	printf '{"version": 1, "devices": {"x": {"tunnels": [{"name": "-"}]}}}' \
		>"$tmp/bad.json"
	printf 'not json' >"$tmp/garbage.json"
	! "$DOCCTL" "$tmp/bad.json" x >/dev/null 2>&1 &&
		! "$DOCCTL" "$tmp/garbage.json" x >/dev/null 2>&1
}
if docctl_works; then
	for pair in tunnels-native.json:edge-0042 tunnels-native.json:edge-0043 \
		userdata-soracom.json:440101234567890 \
		userdata-soracom.json:440101234567891; do
		f=${pair%%:*} id=${pair#*:}
		if "$DOCCTL" "$EX/$f" "$id" >"$tmp/out" 2>&1; then
			ok "$f validates for $id (docctl)"
		else
			not_ok "$f validates for $id (docctl)"
			sed 's/^/# /' "$tmp/out"
		fi
	done
else
	skip "tests/helpers/docctl missing or not yet validating: documents not validated"
fi

# ---- systemd units ------------------------------------------------------

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify checks that ExecStart exists: point it at the built binary,
	# or at /bin/true before there is one.
	exe=/bin/true
	[ -x "$TC_BIN" ] && exe=$TC_BIN
	mkdir "$tmp/units"
	for u in $units; do
		sed "s|/usr/sbin/tunnelctl|$exe|g" "$EX/$u" >"$tmp/units/$u"
	done
	man=--man=no
	systemd-analyze verify --help 2>/dev/null | grep -q -- --man || man=
	for u in tunnelctl-sync.service tunnelctl-sync.timer \
		tunnelctl@inverter-web.service tunnelctl-watch.service; do
		# verify exits 0 on many errors it only reports ("ignoring"):
		# any message about our units fails the test.
		(cd "$tmp/units" && systemd-analyze verify $man "$tmp/units/$u") \
			>"$tmp/out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && ! grep -q -e "$tmp/units" -e tunnelctl "$tmp/out"; then
			ok "systemd-analyze verify $u"
		else
			not_ok "systemd-analyze verify $u (rc=$rc)"
			sed 's/^/# /' "$tmp/out"
		fi
	done
else
	skip "systemd-analyze not installed: units not verified"
fi
# Properties the comments in the units promise.
check "sync unit keeps supervisors alive (KillMode=process)" \
	grep -qx 'KillMode=process' "$EX/tunnelctl-sync.service"
check "sync unit keeps its state dir (RuntimeDirectoryPreserve=yes)" \
	grep -qx 'RuntimeDirectoryPreserve=yes' "$EX/tunnelctl-sync.service"
check "sync unit allows CAP_NET_ADMIN" \
	grep -qE '^CapabilityBoundingSet=.*CAP_NET_ADMIN' "$EX/tunnelctl-sync.service"
check "sync unit allows netlink" \
	grep -qE '^RestrictAddressFamilies=.*AF_NETLINK' "$EX/tunnelctl-sync.service"
check "sync unit leaves /proc/sys writable (route_localnet)" \
	bash -c '! grep -qE "^ProtectKernelTunables=(yes|true|1)" "$1"' _ \
	"$EX/tunnelctl-sync.service"
# The watch unit: a long-running service that leaves the tunnels up.
wu=$EX/tunnelctl-watch.service
check "watch unit: Type=simple, ExecStart=/usr/sbin/tunnelctl watch" \
	bash -c 'grep -qx "Type=simple" "$1" && grep -qx "ExecStart=/usr/sbin/tunnelctl watch" "$1"' _ "$wu"
check "watch unit: restarted on failure" grep -qx 'Restart=on-failure' "$wu"
check "watch unit: after and wants network-online.target" \
	bash -c 'grep -qx "After=network-online.target" "$1" && grep -qx "Wants=network-online.target" "$1"' _ "$wu"
check "watch unit: reload is SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$wu"
check "watch unit: stopping it leaves the tunnels up (KillMode=process)" grep -qx 'KillMode=process' "$wu"
check "watch unit: RuntimeDirectory=tunnelctl tunnelctl-fw, preserved" \
	bash -c 'grep -qx "RuntimeDirectory=tunnelctl tunnelctl-fw" "$1" && grep -qx "RuntimeDirectoryPreserve=yes" "$1"' _ "$wu"
check "watch unit: the sync unit's hardening, line for line" bash -c '
	h="^(CapabilityBoundingSet|RestrictAddressFamilies|NoNewPrivileges|Protect[A-Za-z]*|Private[A-Za-z]*|Restrict[A-Za-z]*|LockPersonality|MemoryDenyWriteExecute|SystemCall[A-Za-z]*|UMask)="
	diff <(grep -E "$h" "$1") <(grep -E "$h" "$2")' _ "$EX/tunnelctl-sync.service" "$wu"
check "timer runs every 5 minutes with a random delay" \
	bash -c 'grep -qx "OnUnitActiveSec=5min" "$1" && grep -q "^RandomizedDelaySec=" "$1"' _ \
	"$EX/tunnelctl-sync.timer"

# ---- ansible ------------------------------------------------------------

if command -v ansible-playbook >/dev/null 2>&1; then
	if (cd "$tmp" && ANSIBLE_LOCAL_TEMP=$tmp/ansible ANSIBLE_HOME=$tmp/ansible \
			ANSIBLE_REMOTE_TEMP=$tmp/ansible-remote ANSIBLE_ASYNC_DIR=$tmp/async \
		ansible-playbook --syntax-check -i localhost, \
		"$EX/tunnelctl-playbook.yml") >"$tmp/out" 2>&1; then
		ok "ansible-playbook --syntax-check tunnelctl-playbook.yml"
	else
		not_ok "ansible-playbook --syntax-check tunnelctl-playbook.yml"
		sed 's/^/# /' "$tmp/out"
	fi
	# Run it for real against this host (connection local, no become) with
	# a fake tunnelctl on PATH: the Jinja in changed_when and the assert
	# must pass on healthy output and fail on a tunnel that is retrying.
	mkdir -p "$tmp/fake"
	cat >"$tmp/fake/tunnelctl" <<'FAKE'
#!/bin/sh
case "$*" in
*sync*) echo '{"started":["inverter-web"],"restarted":[],"stopped":[],"unchanged":["ssh"],"expired":[]}' ;;
*status*) cat "$FAKE_STATUS" ;;
*) exit 2 ;;
esac
FAKE
	chmod +x "$tmp/fake/tunnelctl"
	echo '{"tunnels":[{"name":"ssh","state":"up","last_error":null},
		{"name":"inverter-web","state":"expired","last_error":null}]}' >"$tmp/good.json"
	echo '{"tunnels":[{"name":"ssh","state":"up","last_error":null},
		{"name":"inverter-web","state":"retrying",
		 "last_error":"remote port forwarding failed"}]}' >"$tmp/bad.json"
	py=$(command -v python3 || echo /usr/bin/python3)
	printf '[edge]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n' \
		"$py" >"$tmp/inventory"
	run_playbook() {
		(cd "$tmp" && FAKE_STATUS=$1 PATH=$tmp/fake:$PATH \
			ANSIBLE_LOCAL_TEMP=$tmp/ansible ANSIBLE_HOME=$tmp/ansible \
			ANSIBLE_REMOTE_TEMP=$tmp/ansible-remote ANSIBLE_ASYNC_DIR=$tmp/async \
			ANSIBLE_NOCOLOR=1 timeout 300 ansible-playbook -i "$tmp/inventory" \
			-e ansible_become=false "$EX/tunnelctl-playbook.yml") >"$tmp/out" 2>&1
	}
	if run_playbook "$tmp/good.json"; then
		ok "playbook passes when every tunnel is up or expired"
	else
		not_ok "playbook passes when every tunnel is up or expired"
		sed 's/^/# /' "$tmp/out"
	fi
	if ! run_playbook "$tmp/bad.json" &&
		grep -q "inverter-web', 'retrying'" "$tmp/out"; then
		ok "playbook fails, naming the tunnel, when one is retrying"
	else
		not_ok "playbook fails, naming the tunnel, when one is retrying"
		sed 's/^/# /' "$tmp/out"
	fi
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
	check "tunnelctl-playbook.yml is YAML (ansible not installed)" \
		python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' \
		"$EX/tunnelctl-playbook.yml"
else
	skip "neither ansible nor PyYAML installed: playbook not checked"
fi

# ---- settings file and cron line -------------------------------------

known="source id soracom state_dir run_as autossh ssh splay cacert interface key interval"
known="$known mqtt_cafile mqtt_certfile mqtt_keyfile mqtt_username mqtt_password_file mqtt_keepalive"
bad=$(sed -n -E 's/^[[:space:]]*#?[[:space:]]*([a-z_]+)[[:space:]]*=.*/\1/p' \
	"$EX/tunnelctl.conf" | while read -r k; do
		case " $known " in *" $k "*) ;; *) echo "$k" ;; esac
	done)
check "tunnelctl.conf uses only known keys${bad:+ (unknown: $bad)}" test -z "$bad"
bad=$(grep -vE '^[[:space:]]*(#|$)' "$EX/tunnelctl.conf" |
	grep -vE '^[a-z_]+ = [^ ].*$' || true)
check "tunnelctl.conf lines are 'key = value'" test -z "$bad"

line=$(grep -E '^[^#A-Z].*tunnelctl' "$EX/tunnelctl.cron")
check "cron line: five time fields, a user, tunnelctl sync --splay" \
	bash -c '[[ $1 =~ ^[^[:space:]]+([[:space:]]+[^[:space:]]+){4}[[:space:]]+root[[:space:]]+/usr/sbin/tunnelctl[[:space:]].*sync[[:space:]].*--splay[[:space:]]+[0-9]+ ]]' _ "$line"
splay=$(printf '%s' "$line" | sed -nE 's/.*--splay[[:space:]]+([0-9]+).*/\1/p')
check "cron splay ($splay s) is shorter than the 5 minute interval" \
	test "${splay:-999}" -lt 300

done_testing
