#!/bin/bash
# t_version.sh: `version` (human, --json, -V), `help`, the usage exit code,
# and logging: errors go to stderr as "tunnelctl: WHAT: WHY" and, when
# stderr is not a terminal, to syslog too (facility daemon, tag tunnelctl),
# never with key material. The syslog part runs tunnelctl in a private mount
# namespace whose /dev is a tmpfs of symlinks to the real /dev plus our own
# /dev/log socket, so the host's /dev and syslog daemon are never touched.
# TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

[ -x "$TC_BIN" ] || skip_all "no tunnelctl binary at $TC_BIN"
command -v python3 >/dev/null || skip_all "python3 not installed"

WORK=$(mktemp -d /tmp/tcversion.XXXXXX)
chmod 700 "$WORK"
at_exit "rm -rf $WORK"
SET=$WORK/tunnelctl.conf
: >"$SET"
t() { "$TC_BIN" --settings "$SET" --state-dir "$WORK/state" "$@"; }

# The version configure stamped into the build (config.h), else the source's.
want_version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$TC_BUILDDIR/config.h" 2>/dev/null)
[ -n "$want_version" ] ||
	want_version=$(sed -n 's/^AC_INIT(\[tunnelctl\], \[\([^]]*\)\].*/\1/p' "$TC_SRCDIR/configure.ac")

# --- version, human ---
out=$(t version 2>"$WORK/err")
rc=$?
is "$rc" 0 "version exits 0"
check "version writes nothing to stderr" test ! -s "$WORK/err"
is "$(echo "$out" | sed -n 1p)" "tunnelctl $want_version" "first line: tunnelctl $want_version"
for k in libcurl json-c nftables libmosquitto autossh ssh; do
	check "version has a '$k' line with a value" grep -qE "^$k [^ ]" <<<"$out"
done
is "$(echo "$out" | wc -l)" 7 "version prints seven lines"
check "libcurl line agrees with curl-config/pkg-config" \
	bash -c '[ "$1" = "libcurl $(pkg-config --modversion libcurl 2>/dev/null || echo "${1#libcurl }")" ]' _ \
	"$(grep '^libcurl ' <<<"$out")"
check "nftables line names libnftnl and libmnl" grep -qE '^nftables .*libnftnl [0-9].*libmnl [0-9]' <<<"$out"
if command -v autossh >/dev/null; then
	check "autossh line names autossh's version" grep -qE '^autossh autossh [0-9]' <<<"$out"
else
	skip "autossh not installed"
fi
check "ssh line names OpenSSH's version" grep -qE '^ssh OpenSSH_[0-9]' <<<"$out"

# --- version --json ---
jcheck() { # jcheck FILE PYTHON-EXPR-ON-d
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}
t version --json >"$WORK/v.json" 2>"$WORK/err"
is "$?" 0 "version --json exits 0"
check "version --json is valid JSON" jcheck "$WORK/v.json" 'isinstance(d, dict)'
check "version --json has exactly tunnelctl libcurl json-c nftables libmosquitto autossh ssh" \
	jcheck "$WORK/v.json" 'sorted(d) == sorted(["tunnelctl","libcurl","json-c","nftables","libmosquitto","autossh","ssh"])'
check "version --json: tunnelctl is $want_version" jcheck "$WORK/v.json" "d['tunnelctl'] == '$want_version'"
check "version --json: every value a non-empty string" \
	jcheck "$WORK/v.json" 'all(isinstance(v, str) and v for v in d.values())'
check "version --json is one line" test "$(wc -l <"$WORK/v.json")" = 1
t --json version >"$WORK/v2.json" 2>/dev/null
check "--json before the command gives the same JSON" cmp -s "$WORK/v.json" "$WORK/v2.json"

# Missing tools are reported as such, not as an error.
printf 'autossh = %s\nssh = %s\n' "$WORK/no-autossh" "$WORK/no-ssh" >"$WORK/missing.conf"
"$TC_BIN" --settings "$WORK/missing.conf" version --json >"$WORK/m.json" 2>/dev/null
is "$?" 0 "version with autossh and ssh missing still exits 0"
check "missing autossh and ssh are null in JSON" \
	jcheck "$WORK/m.json" "d['autossh'] is None and d['ssh'] is None and d['libcurl']"
"$TC_BIN" --settings "$WORK/missing.conf" version 2>/dev/null | grep -q '^autossh (not found)$'
check "missing autossh is '(not found)' for people" test $? = 0

# --- -V ---
out=$(t -V 2>"$WORK/err")
rc=$?
is "$rc" 0 "-V exits 0"
is "$(echo "$out" | sed -n 1p)" "tunnelctl $want_version" "-V prints the version"
t --json -V >"$WORK/v3.json" 2>/dev/null
check "--json -V prints the version JSON" jcheck "$WORK/v3.json" "d['tunnelctl'] == '$want_version'"

# Usage errors: arguments that `version` does not take.
t version --bogus >/dev/null 2>"$WORK/err"
is "$?" 2 "version --bogus is a usage error (2)"
check "version --bogus names the option" grep -q -- '--bogus' "$WORK/err"

# --- help ---
t help >"$WORK/help" 2>&1
is "$?" 0 "help exits 0"
for c in start stop restart status sync version help; do
	check "help lists '$c'" grep -qE "^  $c( |$)" "$WORK/help"
done
t -h >/dev/null 2>&1
is "$?" 0 "-h exits 0"
t help sync >/dev/null 2>&1
is "$?" 0 "help sync exits 0"

# --- no command, unknown command ---
t >"$WORK/out" 2>"$WORK/err"
is "$?" 2 "no command exits 2"
check "no command: nothing on stdout" test ! -s "$WORK/out"
check "no command: 'tunnelctl: ...' on stderr" grep -q '^tunnelctl: ' "$WORK/err"
t frobnicate >/dev/null 2>"$WORK/err"
is "$?" 2 "unknown command exits 2"
check "unknown command is named" grep -q 'frobnicate' "$WORK/err"

# --- syslog ---
if [ "$(id -u)" != 0 ]; then
	skip "syslog checks need root (unshare -m)"
elif ! unshare -m --propagation private true 2>/dev/null; then
	skip "syslog checks: cannot create a mount namespace here"
else
	SL=$WORK/sl
	mkdir -p "$SL"
	syslog_run "$SL" 0 "$TC_BIN" --settings "$SET" --state-dir "$WORK/state"
	is "$?" 0 "syslog fixture: private /dev with our /dev/log"
	is "$(cat "$SL/rc" 2>/dev/null)" 2 "no command under the syslog fixture still exits 2"
	line=$(grep 'no command given' "$SL/syslog" | head -1)
	check "the error reached syslog" test -n "$line"
	diag "syslog: $line"
	# <PRI>: daemon (3) * 8 + err (3) = 27.
	check "syslog priority is daemon.err (<27>)" grep -q '^<27>' <<<"$line"
	check "syslog tag is tunnelctl[PID]" grep -qE '^<[0-9]+>.{15} tunnelctl\[[0-9]+\]: ' <<<"$line"
	check "syslog message has no 'tunnelctl: ' prefix doubled" \
		bash -c '! grep -q "tunnelctl\[[0-9]*\]: tunnelctl:" <<<"$1"' _ "$line"
	check "the error also went to stderr" grep -q '^tunnelctl: no command given' "$SL/stderr"

	# An invalid document carrying keys: the error names the field, and
	# neither stderr nor syslog ever carries the key text.
	marker=TCKEYMARKER$$
	pem="-----BEGIN OPENSSH PRIVATE KEY-----\\n$marker$marker\\n-----END OPENSSH PRIVATE KEY-----\\n"
	cat >"$WORK/bad-native.json" <<EOF
{"version": 1, "devices": {"edge-1": {"tunnels": [
 {"name": "web", "server": {"host": "203.0.113.10", "user": "tunnel"},
  "remote": {"port": 8080}, "target": {"host": "127.0.0.1", "port": 22},
  "private_key": "$pem", "colour": "$marker"}]}}}
EOF
	cat >"$WORK/bad-key.json" <<EOF
{"version": 1, "devices": {"edge-1": {"tunnels": [
 {"name": "web", "server": {"host": "203.0.113.10", "user": "tunnel"},
  "remote": {"port": 8080}, "target": {"host": "127.0.0.1", "port": 22},
  "private_key": "not a key $marker"}]}}}
EOF
	cat >"$WORK/bad-soracom.json" <<EOF
{"ssh": {"imsis": {"440101234567890": {
  "portForwardParam": "8080:localhost:22 -oProxyCommand=x tunnel@203.0.113.10",
  "privateKey": "$pem"}}}}
EOF
	for doc in bad-native:edge-1 bad-key:edge-1 bad-soracom:440101234567890; do
		f=${doc%%:*}
		id=${doc#*:}
		syslog_run "$SL" 0 "$TC_BIN" --settings "$SET" --state-dir "$WORK/state" \
			sync --source "file://$WORK/$f.json" --id "$id"
		rc=$(cat "$SL/rc" 2>/dev/null)
		is "$rc" 65 "$f: invalid document exits 65"
		check "$f: the error reached syslog as daemon.err" grep -q '^<27>' "$SL/syslog"
		check "$f: no key text in syslog" bash -c '! grep -q "$1" "$2"' _ "$marker" "$SL/syslog"
		check "$f: no key text on stderr" bash -c '! grep -q "$1" "$2"' _ "$marker" "$SL/stderr"
		check "$f: no PEM armour in syslog" bash -c '! grep -q "PRIVATE KEY" "$1"' _ "$SL/syslog"
		diag "$f: $(head -c 300 "$SL/syslog")"
	done

	# On a terminal the operator reads stderr; syslog stays quiet.
	if command -v script >/dev/null; then
		syslog_run "$SL" 1 "$TC_BIN" --settings "$SET" --state-dir "$WORK/state"
		is "$(cat "$SL/rc" 2>/dev/null)" 2 "on a terminal: no command still exits 2"
		check "on a terminal: the error is shown" grep -q 'no command given' "$SL/stderr"
		check "on a terminal: nothing goes to syslog" test ! -s "$SL/syslog"
	else
		skip "script(1) not installed: terminal case"
	fi

	# Success is silent in syslog too.
	syslog_run "$SL" 0 "$TC_BIN" --settings "$SET" --state-dir "$WORK/state" version
	is "$(cat "$SL/rc" 2>/dev/null)" 0 "version under the syslog fixture exits 0"
	check "version logs nothing to syslog" test ! -s "$SL/syslog"
fi

done_testing
