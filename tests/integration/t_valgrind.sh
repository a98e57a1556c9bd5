#!/bin/bash
# t_valgrind.sh: the supervisor under valgrind over a start -> expire cycle
# and a start -> stop cycle: no invalid accesses, no leaks, no stray fds.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
[ -z "${TC_SANITIZED:-}" ] || skip_all "sanitizer build: valgrind does not mix with ASan"
loopback_fixture

RP=$(free_port)
tc start vg --server "root@127.0.0.1:$SPORT" --remote-port "$RP" --target "127.0.0.1:$TPORT" \
	--key "$SSHD/client_key" --host-key "$SSHD_HOSTKEY_PUB" --timeout 25s >/dev/null 2>&1
wait_for 15 state_is vg up || { not_ok "tunnel up before the valgrind runs"; done_testing; exit 1; }
install -m 600 "$STATE/vg/key" "$WORK/vgkey"
sup=$(jfield vg pid)
kill -TERM "$sup"
wait_for 10 sh -c "! kill -0 $sup"

# Run the supervisor exactly as tunnelctl does, but under valgrind, in the foreground.
supervise_vg() { # LOG
	install -m 600 "$WORK/vgkey" "$STATE/vg/key"
	rm -f "$STATE/vg/run.json" "$STATE/vg/pid"
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--error-exitcode=99 --track-fds=yes --log-file="$1" \
		"$(dirname "$TC_BIN")/tunnelctl-supervise" __supervise "$STATE" vg 3 3>"$WORK/ready" </dev/null >/dev/null 2>&1 &
	VGPID=$!
	at_exit "kill -9 $VGPID"
	# Hold the lock until the supervisor has written its pidfile, as `start`
	# does: a status in between would rightly clean up a supervisor-less tunnel.
	flock "$STATE/.lock" bash -c "for i in \$(seq 600); do [ -s $STATE/vg/pid ] && exit 0; sleep 0.1; done; exit 1"
}

# valgrind lists every fd open at exit; those the test harness passed in are
# marked "<inherited from parent>". Anything else the supervisor opened itself.
own_fds_closed() {
	python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
own = [l for i, l in enumerate(lines) if re.search(r"Open (file descriptor|AF_\w+ socket) \d+", l)
       and "inherited from parent" not in (lines[i + 1] if i + 1 < len(lines) else "")
       and not re.search(r"descriptor [012]:", l)]
own and print("\n".join(own), file=sys.stderr)
sys.exit(1 if own else 0)
PY
}

# 1. start -> up -> expire
supervise_vg "$WORK/vg-expire.log"
check "under valgrind: up" wait_for 60 state_is vg up
state_is vg up || diag "$(tail -5 $SSHD/sshd.log; ls -la $STATE/vg; cmp $WORK/vgkey $SSHD/client_key; cat $STATE/vg/run.json)"
is "$(fetch_token "$RP")" "$TOKEN" "under valgrind: traffic flows"
check "under valgrind: expires on its own" wait_for 90 sh -c "! kill -0 $VGPID"
wait "$VGPID"
is "$?" 0 "expire cycle: valgrind found no errors or leaks (exit 0, not 99)"
is "$(jfield vg state)" expired "state expired"
check "expire cycle: no invalid access in the log" sh -c "! grep -q 'Invalid\|uninitialised\|definitely lost: [1-9]' $WORK/vg-expire.log"
check "expire cycle: no fd of its own left open at exit" own_fds_closed "$WORK/vg-expire.log"
[ -s "$WORK/vg-expire.log" ] && diag "$(head -40 "$WORK/vg-expire.log")"

# 2. start -> up -> stop
supervise_vg "$WORK/vg-stop.log"
check "second run: up" wait_for 60 state_is vg up
tc stop vg >/dev/null 2>&1
wait "$VGPID"
is "$?" 0 "stop cycle: valgrind found no errors or leaks"
check "stop cycle: no invalid access in the log" sh -c "! grep -q 'Invalid\|uninitialised\|definitely lost: [1-9]' $WORK/vg-stop.log"
check "stop cycle: no fd of its own left open at exit" own_fds_closed "$WORK/vg-stop.log"
[ -s "$WORK/vg-stop.log" ] && diag "$(head -40 "$WORK/vg-stop.log")"
check "stop removed everything" [ ! -e "$STATE/vg" ]

done_testing
