#!/bin/sh
# autossh_start.sh SPORT RPORT TPORT KEY KNOWN_HOSTS PIDFILE [ALIVE [COUNT [HOST]]]:
# the plain way to start a reverse tunnel from a script: autossh -M 0 -f
# with the options such scripts carry. ALIVE/COUNT default to 60/3, the
# common script's keepalive; HOST to 127.0.0.1.
SPORT=$1 RPORT=$2 TPORT=$3 KEY=$4 KH=$5 PIDF=$6
ALIVE=${7:-60} COUNT=${8:-3} HOST=${9:-127.0.0.1}
AUTOSSH_PIDFILE=$PIDF
export AUTOSSH_PIDFILE
exec autossh -M 0 -f -N \
	-o BatchMode=yes -o ExitOnForwardFailure=yes \
	-o ServerAliveInterval="$ALIVE" -o ServerAliveCountMax="$COUNT" \
	-o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes \
	-i "$KEY" -p "$SPORT" \
	-R "127.0.0.1:$RPORT:127.0.0.1:$TPORT" "root@$HOST"
