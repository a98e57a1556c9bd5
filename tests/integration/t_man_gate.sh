#!/bin/bash
# t_man_gate.sh: tunnelctl-gate(8) is clean mdoc and documents the gate's
# contract: every command and option of SPEC.md's "The server side"
# section, the lines serve prints to the device, and its exit codes.
# Needs no root and no network. TAP on stdout.
set -u
TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$TC_SRCDIR/man/tunnelctl-gate.8
n=0
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_man_gate.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

check "man page exists" test -r "$MAN"
if ! command -v mandoc >/dev/null 2>&1; then
	skip "mandoc not installed: page not checked"
	echo "1..$n"
	exit 0
fi
mandoc -T lint -W warning "$MAN" >"$tmp/lint" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/lint" ]; then ok "mandoc -T lint -W warning is clean"
else nok "mandoc -T lint -W warning is clean (rc=$rc)"; sed 's/^/# /' "$tmp/lint"; fi
mandoc -T ascii "$MAN" 2>/dev/null | sed 's/.\x08//g' >"$tmp/page"
section() { awk -v h="$1" '/^[A-Z]/ { on = ($0 == h); next } on { print }' "$tmp/page"; }
mentions() { grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)" "$tmp/page"; }

for sec in NAME SYNOPSIS DESCRIPTION COMMANDS "THE HELLO" "WHAT THE DEVICE SEES" \
	"HOW SERVE FINDS ITS PORTS" REGISTRY "HOST NAMES" ENVIRONMENT FILES "EXIT STATUS" \
	SECURITY EXAMPLES "SEE ALSO"; do
	check "section $sec" grep -qx -- "$sec" "$tmp/page"
done
for c in serve list close authorized-key hello; do
	check "command $c" mentions "$c"
done
for o in --device --max-time --registry --json --html --domain --nginx-map --reason --ports \
	--bind --key; do
	check "option $o" mentions "$o"
done
for l in "tunnelctl-gate: registered DEVICE/TUNNEL port PORT[,PORT] until TIME" \
	"tunnelctl-gate: closed: expired" "tunnelctl-gate: closed: revoked: REASON" \
	"tunnelctl-gate: refused: WHY" \
	"tunnelctl-gate hello 1 tunnel=NAME target=HOST:PORT expires=UNIXTIME"; do
	check "line '$l'" grep -qF -- "$l" "$tmp/page"
done
for e in SSH_ORIGINAL_COMMAND TUNNELCTL_GATE_REGISTRY TUNNELCTL_GATE_PATH; do
	check "environment $e" grep -qE "^ +$e" <(section ENVIRONMENT)
done
section "EXIT STATUS" >"$tmp/exit"
for c in 0 1 2 3 77; do
	check "exit code $c" grep -qE "^ +$c( |\$)" "$tmp/exit"
done
check "SEE ALSO tunnelctl(8)" grep -qF 'tunnelctl(8)' <(section "SEE ALSO")
check "SEE ALSO sshd_config(5)" grep -qF 'sshd_config(5)' <(section "SEE ALSO")
echo "1..$n"
