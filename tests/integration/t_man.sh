#!/bin/bash
# t_man.sh: the manual page is clean mdoc and documents the whole contract:
# every command, every long option and every exit code that SPEC.md names,
# plus the options, settings keys and states decided beyond SPEC.md.
# Needs no root and no network. TAP on stdout.

set -u

TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TC_SRCDIR/tests/integration/lib.sh"
MAN=$TC_SRCDIR/man/tunnelctl.8


tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_man.XXXXXX") || exit 1
at_exit "rm -rf '$tmp'"

# SPEC.md lives beside the repository (shared/), or is named explicitly.
spec=
for f in "${TC_SPEC:-}" "$TC_SRCDIR/SPEC.md" "$TC_SRCDIR/docs/SPEC.md" \
	"$TC_SRCDIR/../shared/SPEC.md" /work/shared/SPEC.md; do
	if [ -n "$f" ] && [ -r "$f" ]; then spec=$f; break; fi
done

check "man page exists" test -r "$MAN"

if command -v mandoc >/dev/null 2>&1; then
	mandoc -T lint -W warning "$MAN" >"$tmp/lint" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/lint" ]; then
		ok "mandoc -T lint -W warning is clean"
	else
		sed 's/^/# /' "$tmp/lint"
		not_ok "mandoc -T lint -W warning is clean (rc=$rc)"
	fi
else
	skip "mandoc not installed"
fi

# Render to plain text (strip overstrike) so options are matched as a
# reader sees them: ".Fl \-all" is "--all" on the page.
render=
if command -v mandoc >/dev/null 2>&1; then
	render="mandoc -T ascii"
elif command -v groff >/dev/null 2>&1; then
	render="groff -mdoc -T ascii -P -c"
fi
if [ -z "$render" ]; then
	skip "neither mandoc nor groff installed: content not checked"
	done_testing
	exit 0
fi
$render "$MAN" 2>/dev/null | sed 's/.\x08//g' >"$tmp/page"
check "page renders to text" test -s "$tmp/page"

# mentions WORD: WORD appears on the page, not as part of a longer word.
mentions() {
	grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)" "$tmp/page"
}

# The body of one section of the rendered page (headers start in column 0).
section() {
	awk -v h="$1" '
		/^[A-Z]/ { on = ($0 == h); next }
		on { print }' "$tmp/page"
}

for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "SETTINGS FILE" \
	"CONFIG DOCUMENTS" "MQTT SOURCES" "SYNC SEMANTICS" WATCH STATES "STATUS JSON" FIREWALL \
	ENVIRONMENT FILES "EXIT STATUS" SECURITY EXAMPLES "SEE ALSO"; do
	check "section $sec" grep -qx -- "$sec" "$tmp/page"
done

if [ -n "$spec" ]; then
	# Commands: the first word of each line of SPEC's usage block.
	cmds=$(awk '/^## Commands/ { s = 1 } s && /^```/ { f++; next }
		s && f == 1 && /^  [a-z]/ { print $1 }' "$spec" | sort -u)
	check "SPEC.md lists commands" test -n "$cmds"
	for c in $cmds; do
		check "command $c is documented" mentions "$c"
	done

	opts=$(grep -o -- '--[a-z-]*' "$spec" | grep -E -- '^--[a-z]' | sort -u)
	check "SPEC.md lists options" test -n "$opts"
	# SPEC.md's options include the server side's, which tunnelctl-gate(8)
	# documents (t_man_gate.sh checks that page).
	$render "$TC_SRCDIR/man/tunnelctl-gate.8" 2>/dev/null | sed 's/.\x08//g' >"$tmp/gate"
	for o in $opts; do
		check "option $o is documented" bash -c 'grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)" "$2" "$3"' _ "$o" "$tmp/page" "$tmp/gate"
	done

	codes=$(grep -oE '^\| [0-9]+ \|' "$spec" | tr -dc '0-9\n' | sort -un)
	check "SPEC.md lists exit codes" test -n "$codes"
	section "EXIT STATUS" >"$tmp/exit"
	for c in $codes; do
		check "exit code $c is documented" grep -qE "^ +$c( |\$)" "$tmp/exit"
	done
else
	skip "SPEC.md not found (set TC_SPEC): commands, options and exit codes not checked"
fi

# Decisions taken beyond SPEC.md, documented on the page.
for o in --wait --run-as --cacert --interface -v -q -h -V --help --version; do
	check "option $o is documented" mentions "$o"
done
for k in source id soracom state_dir run_as autossh ssh splay cacert interface interval \
	mqtt_cafile mqtt_certfile mqtt_keyfile mqtt_username mqtt_password_file mqtt_keepalive; do
	check "settings key $k is documented" grep -qE "^ +$k = " "$tmp/page"
done
section STATES >"$tmp/states"
for s in starting up retrying expired failed; do
	check "state $s is documented" grep -qE "^ +$s( |\$)" "$tmp/states"
done
for f in .lock spec.json run.json pid key known_hosts .fetch/ .localnet/ watch.json .watch.lock; do
	check "file $f is documented" grep -qF -- "$f" "$tmp/page"
done
# watch: its signals, its object in status --json, its unit, the MQTT examples.
section WATCH >"$tmp/watch"
for sig in SIGTERM SIGINT SIGHUP SIGUSR1 SIGKILL; do
	check "WATCH: what $sig does" grep -qE "^ +([A-Z0-9]+, )*$sig" "$tmp/watch"
done
section "STATUS JSON" >"$tmp/sj"
for k in '"watch"' '"last_check_at"' '"last_change_at"' last_error; do
	check "STATUS JSON: the watch object's $k" grep -qF -- "$k" "$tmp/sj"
done
check "EXAMPLES: systemctl enable --now tunnelctl-watch" \
	grep -qF 'systemctl enable --now tunnelctl-watch' <(section EXAMPLES)
section "MQTT SOURCES" >"$tmp/mqtt"
check "MQTT SOURCES: AWS IoT Core, on 8883, with the certificate files" sh -c \
	"grep -q 'amazonaws.com:8883/tunnelctl/{id}/config' '$tmp/mqtt' && grep -q 'mqtt_certfile = ' '$tmp/mqtt'"
check "MQTT SOURCES: a mosquitto broker's configuration" grep -q 'require_certificate true' "$tmp/mqtt"
check "the MQTT draft is folded in and gone" test ! -e "$TC_SRCDIR/man/tunnelctl-mqtt.draft"
for x in 'ssh(1)' 'autossh(1)' 'nft(8)' 'sshd_config(5)'; do
	check "SEE ALSO $x" grep -qF -- "$x" <(section "SEE ALSO")
done
check "mentions CVE-2020-8558" grep -qF CVE-2020-8558 "$tmp/page"

# The snippets in EXAMPLES work as printed: the systemd units verify and the
# ansible tasks pass a syntax check.
snip() { # snip FIRST-LINE-REGEX: a literal display from that line to the blank line
	sed -n "/$1/,/^\$/p" "$tmp/page" | sed 's/^           //'
}
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$tmp/units"
	snip '# tunnelctl-sync.service' | sed 's|/usr/sbin/tunnelctl|/bin/true|' \
		>"$tmp/units/tunnelctl-sync.service"
	snip '# tunnelctl-sync.timer' >"$tmp/units/tunnelctl-sync.timer"
	man=--man=no
	systemd-analyze verify --help 2>/dev/null | grep -q -- --man || man=
	(cd "$tmp/units" && systemd-analyze verify $man ./tunnelctl-sync.service \
		./tunnelctl-sync.timer) >"$tmp/out" 2>&1
	if [ $? -eq 0 ] && [ -s "$tmp/units/tunnelctl-sync.service" ] &&
		! grep -q tunnelctl "$tmp/out"; then
		ok "EXAMPLES: the systemd units pass systemd-analyze verify"
	else
		not_ok "EXAMPLES: the systemd units pass systemd-analyze verify"
		sed 's/^/# /' "$tmp/out"
	fi
else
	skip "systemd-analyze not installed"
fi
if command -v ansible-playbook >/dev/null 2>&1; then
	{ echo '- hosts: all'; echo '  tasks:'
	  snip '- name: converge tunnels' | sed 's/^/    /'; } >"$tmp/pb.yml"
	(cd "$tmp" && ANSIBLE_LOCAL_TEMP=$tmp/ansible ANSIBLE_HOME=$tmp/ansible \
		ansible-playbook --syntax-check -i localhost, "$tmp/pb.yml") >"$tmp/out" 2>&1
	if [ $? -eq 0 ] && grep -q 'from_json' "$tmp/pb.yml"; then
		ok "EXAMPLES: the ansible tasks pass ansible-playbook --syntax-check"
	else
		not_ok "EXAMPLES: the ansible tasks pass ansible-playbook --syntax-check"
		sed 's/^/# /' "$tmp/out"
	fi
else
	skip "ansible-playbook not installed"
fi
check "never recommends StrictHostKeyChecking=no except to forbid it" \
	test "$(grep -c 'StrictHostKeyChecking=no' "$tmp/page")" -le 1

done_testing
