#!/bin/sh
# ssh_start.sh HOST RPORT TPORT KEY KNOWN_HOSTS PIDFILE: plain `ssh -R`, the
# least any tool can do to bring up a reverse forward: started in the
# background (its PID in PIDFILE), this script returns at once; the forward
# is up when the server's RPORT accepts. Pinned host key, keepalives as
# tunnelctl's defaults, no autossh.
HOST=$1 RPORT=$2 TPORT=$3 KEY=$4 KH=$5 PIDF=$6
ssh -F none -N \
	-o BatchMode=yes -o ExitOnForwardFailure=yes \
	-o ServerAliveInterval=30 -o ServerAliveCountMax=3 \
	-o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes \
	-i "$KEY" -R "127.0.0.1:$RPORT:127.0.0.1:$TPORT" "root@$HOST" \
	</dev/null >/dev/null 2>&1 &
echo $! >"$PIDF"
