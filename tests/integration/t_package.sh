#!/bin/bash
# t_package.sh: the Debian package. Builds tunnelctl_*.deb with
# dpkg-buildpackage from a copy of the source tree (uncommitted files
# included, build products left out), installs it, runs the installed
# /usr/sbin/tunnelctl, checks the man page, completions, examples, tmpfiles
# snippet and Depends, keeps a running tunnel across a reinstall (an upgrade
# over the tunnel must not cut it), then removes it (which stops the tunnel)
# and purges it, leaving nothing behind. TAP on stdout.
. "$(dirname "$0")/lib.sh"

need_root
for c in dpkg-buildpackage dpkg-parsechangelog dpkg-checkbuilddeps dh apt-get dpkg python3; do
	command -v "$c" >/dev/null || skip_all "$c not installed (apt-get install debhelper dpkg-dev)"
done
[ -f "$TC_SRCDIR/debian/control" ] || skip_all "no debian/ in $TC_SRCDIR"
# Never clobber a tunnelctl the machine really uses.
if dpkg-query -W -f '${Status}' tunnelctl 2>/dev/null | grep -q 'installed'; then
	skip_all "package tunnelctl is already installed here"
fi
[ -e /usr/sbin/tunnelctl ] && skip_all "/usr/sbin/tunnelctl exists outside the package"
[ -e /usr/sbin/tunnelctl-gate ] && skip_all "/usr/sbin/tunnelctl-gate exists outside the package"
if [ -d /run/tunnelctl ] && [ -n "$(ls -A /run/tunnelctl 2>/dev/null)" ]; then
	skip_all "/run/tunnelctl is in use"
fi
unset TUNNELCTL_STATE_DIR
# The make that runs this test must not steer the package's own build.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
export DEBIAN_FRONTEND=noninteractive

WORK=$(mktemp -d /tmp/tcpkg.XXXXXX)
chmod 700 "$WORK"
at_exit "rm -rf $WORK"

VERSION=$(cd "$TC_SRCDIR" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
SRC=$WORK/tunnelctl-$VERSION
DEB=$WORK/tunnelctl_${VERSION}_$ARCH.deb
mkdir -p "$SRC"

# copy_tree: the files of the working tree. In a git checkout that is what git
# tracks plus untracked files it does not ignore; elsewhere (a dist tarball)
# everything but build products.
copy_tree() {
	if [ -e "$TC_SRCDIR/.git" ] && command -v git >/dev/null; then
		(cd "$TC_SRCDIR" && git ls-files -z -co --exclude-standard |
			tar --null -T - -cf -) | tar -xf - -C "$SRC"
		return
	fi
	(cd "$TC_SRCDIR" && tar -cf - --exclude=./_build --exclude='./build*' \
		--exclude=./.git --exclude='./tunnelctl-*' --exclude=autom4te.cache \
		--exclude=.deps --exclude=__pycache__ --exclude='*.o' --exclude='*.a' \
		--exclude=config.status --exclude=config.log --exclude=./config.h \
		--exclude=Makefile --exclude=stamp-h1 --exclude=./debian/tunnelctl \
		--exclude=./debian/.debhelper .) | tar -xf - -C "$SRC"
}
copy_tree
check "source tree copied (with debian/)" test -f "$SRC/debian/rules" -a -f "$SRC/configure.ac"
# The copy is ours: a read-only source (distcheck) must not make it read-only.
chmod -R u+w "$SRC"

if ! (cd "$SRC" && dpkg-checkbuilddeps) >"$WORK/builddeps" 2>&1; then
	diag "$(cat "$WORK/builddeps")"
	skip_all "build dependencies missing"
fi

start=$SECONDS
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b succeeds"
[ "$rc" = 0 ] || { tail -40 "$WORK/build.log" | sed 's/^/# /'; done_testing; exit 1; }
diag "package built in $((SECONDS - start)) s"
check "the build ran the unit tests" grep -qE '^# PASS: +[1-9]' "$WORK/build.log"
check "the build ran no integration test" bash -c '! grep -q "tests/integration/t_" "$1"' _ "$WORK/build.log"
check "$(basename "$DEB") was built" test -f "$DEB"

# --- the .deb itself ---
depends=$(dpkg-deb -f "$DEB" Depends)
diag "Depends: $depends"
for d in autossh openssh-client libcurl4 libjson-c5 libnftnl11 libmnl0 libmosquitto1; do
	check "Depends names $d" grep -qE "(^|, )$d( |,|$)" <<<"$depends"
done
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$WORK/contents"
# ... but the watch unit, where Debian 12's debhelper puts units.
check "no file outside /usr (but the watch unit in /lib/systemd/system)" bash -c \
	'! grep -vE "^/(usr(/.*)?)?/?$|^/lib(/systemd(/system(/tunnelctl-watch\.service)?)?)?/?$" "$1"' _ "$WORK/contents"
check "the .deb holds /lib/systemd/system/tunnelctl-watch.service" \
	grep -qx /lib/systemd/system/tunnelctl-watch.service "$WORK/contents"

# --- install ---
at_exit "dpkg --purge tunnelctl"
apt-get install -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Use-Pty=0 "$DEB" >"$WORK/install.log" 2>&1
rc=$?
is "$rc" 0 "apt-get install ./$(basename "$DEB")"
[ "$rc" = 0 ] || tail -20 "$WORK/install.log" | sed 's/^/# /'
check "dpkg -s says installed" bash -c 'dpkg-query -W -f "\${Status}" tunnelctl | grep -q "install ok installed"'
check "dpkg -s Depends has autossh" bash -c 'dpkg -s tunnelctl | grep "^Depends:" | grep -qw autossh'
check "dpkg -s Depends has openssh-client" bash -c 'dpkg -s tunnelctl | grep "^Depends:" | grep -qw openssh-client'

B=/usr/sbin/tunnelctl
check "$B is installed" test -x "$B"
is "$(stat -c '%U:%G %a' "$B" 2>/dev/null)" "root:root 755" "$B is root:root 0755"
check "$B links against nothing missing" bash -c '! ldd "$1" | grep -q "not found"' _ "$B"
out=$("$B" version 2>&1)
is "$?" 0 "tunnelctl version runs from the package"
diag "$out"
is "$(sed -n 1p <<<"$out")" "tunnelctl ${VERSION%%-*}" "version is the package's upstream version"
for k in libcurl json-c nftables libmosquitto autossh ssh; do
	check "version reports $k" grep -qE "^$k [^ (]" <<<"$out"
done
"$B" version --json >"$WORK/v.json" 2>/dev/null
check "version --json has tunnelctl libcurl json-c nftables libmosquitto autossh ssh" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if sorted(d) == sorted(["tunnelctl","libcurl","json-c","nftables","libmosquitto","autossh","ssh"]) and all(d.values()) else 1)' "$WORK/v.json"
"$B" help >/dev/null 2>&1
is "$?" 0 "tunnelctl help exits 0"

MAN=/usr/share/man/man8/tunnelctl.8.gz
check "man page $MAN" test -s "$MAN"
check "man page is valid gzip with a NAME section" bash -c 'zcat "$1" | grep -q "^\.Sh NAME\|^\.SH NAME"' _ "$MAN"
if command -v man >/dev/null; then
	is "$(man -w tunnelctl 2>/dev/null)" "$MAN" "man -w finds tunnelctl(8)"
else
	skip "man not installed"
fi
check "bash completion installed" test -s /usr/share/bash-completion/completions/tunnelctl
check "zsh completion installed" test -s /usr/share/zsh/vendor-completions/_tunnelctl
check "bash completion loads and registers tunnelctl" bash -c \
	'. /usr/share/bash-completion/completions/tunnelctl && complete -p tunnelctl >/dev/null'
EX=/usr/share/doc/tunnelctl/examples
check "examples under $EX" test -d "$EX"
for f in tunnelctl-sync.service tunnelctl-sync.timer tunnelctl-watch.service tunnelctl.conf \
	tunnels-native.json; do
	check "example $f installed uncompressed" test -s "$EX/$f"
done
U=/lib/systemd/system/tunnelctl-watch.service
check "watch unit installed as $U, the example's text" cmp -s "$U" "$EX/tunnelctl-watch.service"
check "watch unit installed disabled (nothing in /etc/systemd/system wants it)" \
	bash -c '! find /etc/systemd/system -name tunnelctl-watch.service 2>/dev/null | grep -q .'
if command -v systemctl >/dev/null; then
	is "$(systemctl is-enabled tunnelctl-watch.service 2>/dev/null)" disabled "systemctl is-enabled: disabled"
else
	skip "systemctl not installed"
fi
check "/usr/share/doc/tunnelctl/copyright" test -s /usr/share/doc/tunnelctl/copyright
check "/usr/share/doc/tunnelctl/changelog.gz" test -s /usr/share/doc/tunnelctl/changelog.gz
check "tmpfiles snippet installed" grep -q '^d /run/tunnelctl :\?0700 root root' /usr/lib/tmpfiles.d/tunnelctl.conf
if command -v systemd-tmpfiles >/dev/null; then
	is "$(stat -c '%U %a' /run/tunnelctl 2>/dev/null)" "root 700" "postinst made /run/tunnelctl root 0700"
else
	skip "systemd-tmpfiles not installed"
fi
# The server side ships in the same package: tunnelctl-gate, its page, the
# set-up guide and the example set-up.
G=/usr/sbin/tunnelctl-gate
check "$G is installed" test -x "$G"
is "$(stat -c '%U:%G %a' "$G" 2>/dev/null)" "root:root 755" "$G is root:root 0755"
is "$("$G" --version 2>&1)" "tunnelctl-gate ${VERSION%%-*}" "tunnelctl-gate --version"
ssh-keygen -q -t ed25519 -N '' -C edge-1 -f "$WORK/edge1" </dev/null
line=$(env -u TUNNELCTL_GATE_PATH "$G" authorized-key --device edge-1 --ports 8080 <"$WORK/edge1.pub" 2>&1)
check "authorized-key names the installed gate" grep -qF 'command="/usr/sbin/tunnelctl-gate serve --device edge-1 --ports 8080"' <<<"$line"
GMAN=/usr/share/man/man8/tunnelctl-gate.8.gz
check "man page $GMAN" test -s "$GMAN"
if command -v man >/dev/null; then
	is "$(man -w tunnelctl-gate 2>/dev/null)" "$GMAN" "man -w finds tunnelctl-gate(8)"
else
	skip "man not installed"
fi
check "SERVER.md installed" bash -c 'test -s /usr/share/doc/tunnelctl/SERVER.md || test -s /usr/share/doc/tunnelctl/SERVER.md.gz'
for f in README.md tunnelctl-gate.sshd.conf tunnelctl-gate.tmpfiles authorized_keys.example principals.example; do
	check "gate example $f installed uncompressed" test -s "$EX/gate/$f"
done
for f in README.md tunnelctl-gate.nginx tunnelctl-gate-web-update tunnelctl-gate-web.service \
	tunnelctl-gate-web.path tunnelctl-gate-web.timer; do
	check "web list example nginx/$f installed uncompressed" test -s "$EX/nginx/$f"
done
check "no gate registry is made by the package (the account is the site's)" test ! -e /run/tunnelctl-gate
dpkg -L tunnelctl >"$WORK/files"
check "dpkg -L lists the package's files" grep -qx "$B" "$WORK/files"

# --- a tunnel from the installed binary, in the default state dir ---
tunnel=0
if command -v autossh >/dev/null; then
	SSHD=$WORK/sshd
	if sshd_setup "$SSHD" && SPORT=$(free_port) && sshd_start "$SSHD" "$SPORT"; then
		at_exit "sshd_kill_sessions $SSHD; sshd_stop $SSHD"
		TPORT=$(free_port)
		TOKEN=tok-$$-$RANDOM
		target_start "$TPORT" "$TOKEN" && tunnel=1
	fi
fi
SETTINGS=$WORK/empty.conf
: >"$SETTINGS"
pstate() { "$B" --settings "$SETTINGS" status --json 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tunnels"]:
    if t["name"] == "pkg":
        print(t[sys.argv[1]])' "$1"; }
pkg_up() { [ "$(pstate state)" = up ]; }
if [ "$tunnel" = 1 ]; then
	RPORT=$(free_port)
	at_exit "$B --settings $SETTINGS stop pkg"
	"$B" --settings "$SETTINGS" start pkg --server "root@127.0.0.1:$SPORT" --remote-port "$RPORT" \
		--target "127.0.0.1:$TPORT" --key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" \
		--timeout 5m >/dev/null 2>&1
	is "$?" 0 "the installed binary starts a tunnel in /run/tunnelctl"
	check "the tunnel comes up" wait_for 15 pkg_up
	spid=$(pstate pid)
	at_exit "kill -9 $spid"
	is "$(fetch_token "$RPORT")" "$TOKEN" "the tunnel reaches the target"
	# A watcher started by hand on the default state directory (its
	# document has no entry for it: it leaves the hand tunnel alone).
	printf '{"version": 1, "devices": {}}\n' >"$WORK/none.json"
	"$B" --settings "$SETTINGS" watch --source "$WORK/none.json" --id pkg-dev >/dev/null 2>&1 &
	wpid=$!
	at_exit "kill -9 $wpid"
	check "a watcher runs on /run/tunnelctl" wait_for 10 test -s /run/tunnelctl/watch.json

	# Reinstalling (what an upgrade does) must leave the tunnel alone.
	dpkg -i "$DEB" >"$WORK/reinstall.log" 2>&1
	is "$?" 0 "reinstall (upgrade path) succeeds"
	check "the supervisor survived the reinstall" kill -0 "$spid"
	check "the watcher survived the reinstall" kill -0 "$wpid"
	is "$(pstate state)" up "the tunnel is still up after the reinstall"

	# Removal stops it: no supervisor or ssh outlives the binary.
	apt-get remove -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Use-Pty=0 tunnelctl >"$WORK/remove.log" 2>&1
	is "$?" 0 "apt-get remove tunnelctl"
	check "removal stopped the tunnel's supervisor" wait_for 10 bash -c '! kill -0 "$1"' _ "$spid"
	check "removal stopped the watcher first" wait_for 10 bash -c '! kill -0 "$1"' _ "$wpid"
	wait "$wpid"
	is "$?" 0 "the watcher ended with 0 (SIGTERM)"
	check "the remote port is closed after removal" wait_port_closed 127.0.0.1 "$RPORT" 10
	check "no tunnel dir left in /run/tunnelctl" test ! -e /run/tunnelctl/pkg
	check "remove keeps the package's conffiles state (rc)" \
		bash -c 'dpkg-query -W -f "\${Status}" tunnelctl | grep -q "config-files\|not-installed"'
else
	skip "no sshd/autossh: tunnel across reinstall and removal not checked"
fi

# --- purge: nothing left ---
apt-get purge -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Use-Pty=0 tunnelctl >"$WORK/purge.log" 2>&1
is "$?" 0 "apt-get purge tunnelctl"
check "dpkg no longer knows tunnelctl" bash -c '! dpkg-query -W -f "\${Status}" tunnelctl 2>/dev/null | grep -q "installed\|config-files"'
left=
while read -r f; do
	[ -d "$f" ] && continue	# shared directories (/usr/share/man/man8, ...) stay
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$WORK/files"
is "$left" "" "no file of the package is left"
check "/usr/sbin/tunnelctl is gone" test ! -e /usr/sbin/tunnelctl
check "/usr/sbin/tunnelctl-gate is gone" test ! -e /usr/sbin/tunnelctl-gate
check "/usr/share/doc/tunnelctl is gone" test ! -e /usr/share/doc/tunnelctl
check "/run/tunnelctl is gone after purge" test ! -e /run/tunnelctl
check "no dpkg info files left" bash -c '! ls /var/lib/dpkg/info/tunnelctl.* >/dev/null 2>&1'
diag "t_package took $SECONDS s"

done_testing
