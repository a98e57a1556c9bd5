#!/bin/bash
# t_distcheck.sh: `make distcheck` passes from a fresh build directory, and
# the tarball holds every file git tracks (so a release builds, tests and
# packages like the repository) and none of a developer's litter (.deps,
# __pycache__, objects). distcheck runs the unit tests only here: the
# integration tests need root and minutes, and this test is one of them.
# Needs no root. TAP on stdout.
. "$(dirname "$0")/lib.sh"

for c in make git tar; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -e "$TC_SRCDIR/.git" ] || skip_all "$TC_SRCDIR is not a git checkout (running inside distcheck?)"
[ -x "$TC_SRCDIR/configure" ] || skip_all "no configure in $TC_SRCDIR (run autoreconf -fi)"
[ -e "$TC_SRCDIR/config.status" ] && skip_all "$TC_SRCDIR is configured in place; distcheck needs a clean source"
# The make that runs this test (make check TESTS=...) must not leak into ours.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS DESTDIR

WORK=$(mktemp -d /tmp/tcdist.XXXXXX)
at_exit "chmod -R u+w $WORK; rm -rf $WORK"
cd "$WORK" || exit 1

"$TC_SRCDIR/configure" -q >"$WORK/configure.log" 2>&1
is "$?" 0 "configure in a fresh build directory"
VERSION=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
TARBALL=tunnelctl-$VERSION.tar.gz

start=$SECONDS
make -j"$(nproc)" distcheck TESTS='$(UNIT_TESTS)' >"$WORK/distcheck.log" 2>&1
rc=$?
is "$rc" 0 "make distcheck (unit tests) passes"
[ "$rc" = 0 ] && diag "distcheck took $((SECONDS - start)) s"
[ "$rc" = 0 ] || grep -E 'ERROR|error|FAIL|not ok|files left' "$WORK/distcheck.log" | tail -20 | sed 's/^/# /'
check "distcheck ran the unit tests in the dist tree" grep -q '^PASS: tests/unit/test_spec' "$WORK/distcheck.log"
check "distcheck checked the uninstall" grep -q 'distuninstallcheck\|archives ready for distribution' "$WORK/distcheck.log"

if [ ! -f "$TARBALL" ]; then
	make dist >"$WORK/dist.log" 2>&1
	is "$?" 0 "make dist (after a failed distcheck)"
fi
check "$TARBALL exists" test -f "$TARBALL"
tar -tzf "$TARBALL" | sed "s|^tunnelctl-$VERSION/||" | sort >"$WORK/tar.list"

# Every tracked file, except git's own ignore lists and placeholders.
(cd "$TC_SRCDIR" && git ls-files) | grep -vE '(^|/)\.gitignore$|^m4/\.keep$' | sort >"$WORK/git.list"
missing=$(comm -13 "$WORK/tar.list" "$WORK/git.list")
is "$(echo "$missing" | grep -c .)" 0 "every tracked file is in the tarball"
[ -n "$missing" ] && diag "missing: $(echo $missing)"
for f in debian/control debian/rules debian/changelog debian/copyright debian/source/format \
	tests/run man/tunnelctl.8 completions/tunnelctl.bash completions/_tunnelctl \
	tests/integration/t_package.sh build-aux/tap-driver.sh configure; do
	check "tarball has $f" grep -qx "$f" "$WORK/tar.list"
done
litter=$(grep -E '(^|/)(\.deps|__pycache__|autom4te\.cache|_build)(/|$)|\.(o|a|pyc|log|trs)$|(^|/)(config\.status|config\.h|Makefile|stamp-h1)$' \
	"$WORK/tar.list")
is "$(echo "$litter" | grep -c .)" 0 "no build litter in the tarball"
[ -n "$litter" ] && diag "litter: $(echo $litter | head -c 600)"

done_testing
