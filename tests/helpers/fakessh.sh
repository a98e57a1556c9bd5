#!/bin/bash
# fakessh.sh: a stand-in "ssh" for fault tests. It ignores every ssh argument
# and behaves as FAKESSH_MODE says (environment, since autossh passes its
# environment on to ssh unchanged; or the first argument "--fakessh-mode=M",
# which is removed before anything else looks at argv):
#
#   hang          ignore SIGTERM, SIGINT and SIGHUP and sleep forever: a wedged
#                 ssh (only SIGKILL ends it). autossh 1.4g then blocks in
#                 waitpid() after its own SIGTERM.
#   lines         print FAKESSH_LINES (lines separated by "\n"; printf %b
#                 escapes allowed, e.g. "\r", "\033") to stderr, then sleep
#                 FAKESSH_SLEEP seconds (default 0), then exit FAKESSH_EXIT
#                 (default 255).
#   up            print the lines of an established remote forward (as ssh 9.2
#                 with LogLevel=DEBUG1 does, "\r\n" endings; port FAKESSH_PORT,
#                 default 0 = allocated port 40000), then sleep until killed
#                 (SIGTERM exits 0, as ssh -N does).
#   refused       print ssh's "Connection refused" line, exit 255 at once.
#
# Every invocation appends one line "PID ARGV..." to FAKESSH_LOG if set, so a
# test can count starts and inspect the argv ssh would have got.
#
# Use it through autossh with AUTOSSH_PATH=/path/to/fakessh.sh (tests only:
# tunnelctl never lets AUTOSSH_PATH in from its caller), or as the settings
# file's `ssh = /path/to/fakessh.sh`.
set -u

mode=${FAKESSH_MODE:-}
case ${1:-} in
--fakessh-mode=*)
	mode=${1#--fakessh-mode=}
	shift
	;;
esac

if [ -n "${FAKESSH_LOG:-}" ]; then
	printf '%s %s\n' "$$" "$*" >>"$FAKESSH_LOG"
fi

# A sleep that signals can interrupt (bash runs traps only between commands).
nap() {
	sleep "$1" &
	wait $! 2>/dev/null
}

case $mode in
hang)
	trap '' TERM INT HUP
	while :; do
		sleep 3600
	done
	;;
lines)
	if [ -n "${FAKESSH_LINES:-}" ]; then
		printf '%b\n' "$FAKESSH_LINES" >&2
	fi
	nap "${FAKESSH_SLEEP:-0}"
	exit "${FAKESSH_EXIT:-255}"
	;;
up)
	port=${FAKESSH_PORT:-0}
	trap 'exit 0' TERM
	printf 'debug1: Connecting to 127.0.0.1 [127.0.0.1] port 22.\r\n' >&2
	printf 'Authenticated to 127.0.0.1 ([127.0.0.1]:22) using "publickey".\r\n' >&2
	printf 'debug1: remote forward success for: listen 127.0.0.1:%s, connect 127.0.0.1:22\r\n' "$port" >&2
	if [ "$port" = 0 ]; then
		printf 'Allocated port 40000 for remote forward to 127.0.0.1:22\r\n' >&2
	fi
	printf 'debug1: forwarding_success: all expected forwarding replies received\r\n' >&2
	while :; do
		nap 3600
	done
	;;
refused)
	printf 'ssh: connect to host 127.0.0.1 port 22: Connection refused\r\n' >&2
	exit 255
	;;
*)
	echo "fakessh: set FAKESSH_MODE to hang, lines, up or refused (got '$mode')" >&2
	exit 2
	;;
esac
