# bash completion for tunnelctl(8)                         -*- shell-script -*-
#
# Install as /usr/share/bash-completion/completions/tunnelctl.
# Self-contained: it does not need the bash-completion package's helpers,
# so it also works when sourced by hand.

_tunnelctl_commands="start stop restart status sync watch key version help"
_tunnelctl_global_opts="--state-dir --settings -v --verbose -q --quiet --json
	--wait -h --help -V --version"
_tunnelctl_tunnel_opts="--server --remote-port --remote-bind --target --via
	--local-port --key --certificate --gate --host-key --timeout --keepalive
	--run-as --cacert --interface --source --id --soracom"
_tunnelctl_source_opts="--source --id --soracom --splay --cacert --interface"
_tunnelctl_watch_opts="--source --id --soracom --cacert --interface --interval"

# Global options that take a value in the next word (or after '=').
_tunnelctl_global_arg='@(--state-dir|--settings|--wait)'

# _tunnelctl_ifaces: the network interfaces of this host.
_tunnelctl_ifaces()
{
	local d
	for d in /sys/class/net/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

# _tunnelctl_names STATE_DIR: the tunnels, i.e. the directories in the state
# directory whose names do not start with '.' (.lock, .fetch, .localnet).
_tunnelctl_names()
{
	local dir=$1 d name
	[[ -d $dir ]] || return 0
	for d in "$dir"/*/; do
		[[ -d $d ]] || continue
		name=${d%/}
		name=${name##*/}
		[[ $name == .* ]] && continue
		printf '%s\n' "$name"
	done
}

# _tunnelctl_reply WORDS...: COMPREPLY = the WORDS that start with $cur.
_tunnelctl_reply()
{
	local w
	COMPREPLY=()
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

# _tunnelctl_unnamed STATE_DIR: the tunnels not yet among the operands.
_tunnelctl_unnamed()
{
	local n o
	while IFS= read -r n; do
		for o in "${operands[@]}"; do
			[[ $n == "$o" ]] && continue 2
		done
		printf '%s\n' "$n"
	done < <(_tunnelctl_names "$1")
}

# _tunnelctl_files [-d]: file (or, with -d, directory) names for $cur.
_tunnelctl_files()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	if [[ ${1:-} == -d ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

# _tunnelctl_value OPTION: complete the value of OPTION; 1 if it takes none.
_tunnelctl_value()
{
	case $1 in
	--via)		_tunnelctl_reply direct dnat ;;
	--key|--certificate|--settings|--cacert|--source)
			_tunnelctl_files ;;
	--state-dir)	_tunnelctl_files -d ;;
	--run-as)	COMPREPLY=($(compgen -u -- "$cur")) ;;
	--interface)	_tunnelctl_reply $(_tunnelctl_ifaces) ;;
	--soracom)	COMPREPLY=() ;;
	--server|--remote-port|--remote-bind|--target|--local-port|--host-key|\
	--timeout|--keepalive|--id|--splay|--wait|--interval)
			COMPREPLY=() ;;
	*)		return 1 ;;
	esac
	return 0
}

_tunnelctl()
{
	local cur prev cword=$COMP_CWORD eqval=0
	local -a words=("${COMP_WORDS[@]}")
	local i w cmd= state_dir=${TUNNELCTL_STATE_DIR:-/run/tunnelctl}
	local -a operands=()

	cur=${words[cword]}
	prev=
	((cword > 0)) && prev=${words[cword - 1]}

	# "--opt=value" arrives as three words when '=' is a word break
	# (the default), as one word when it is not.
	if [[ $cur == = ]] && ((cword > 1)); then
		prev=${words[cword - 1]}
		cur=
		eqval=1
	elif [[ $prev == = ]] && ((cword > 1)); then
		prev=${words[cword - 2]}
		eqval=1
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
		eqval=1
	fi

	# Find the command, skipping global options and their values; note a
	# --state-dir so tunnel names come from the right place.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -z $cmd ]]; then
			case $w in
			--state-dir=*)	state_dir=${w#*=} ;;
			--state-dir|--settings|--wait)
				# the value is the next word, or the one after "="
				[[ ${words[i + 1]:-} == = ]] && ((i++))
				((i++))
				[[ $w == --state-dir ]] && ((i < cword)) &&
					state_dir=${words[i]}
				;;
			-*)		;;
			*)		cmd=$w ;;
			esac
		elif [[ $w == --state-dir=* ]]; then
			state_dir=${w#*=}	# global options may follow the command
		elif [[ $w != -* && $w != = ]]; then
			case ${words[i - 1]} in
			--state-dir)
				state_dir=$w ;;
			--server|--remote-port|--remote-bind|--target|--via|\
			--local-port|--key|--certificate|--host-key|--timeout|--keepalive|\
			--run-as|--cacert|--interface|--source|--id|--splay|\
			--interval|--settings|--wait)
				;;
			=)	[[ ${words[i - 2]} == --state-dir ]] && state_dir=$w ;;
			*)	operands+=("$w") ;;
			esac
		fi
	done
	# A value just after "=" of a global option split by COMP_WORDBREAKS.
	[[ -z $cmd ]] && [[ $prev == --state-dir || $prev == --settings || \
		$prev == --wait ]] && { _tunnelctl_value "$prev"; return 0; }

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_tunnelctl_reply $_tunnelctl_global_opts
		else
			_tunnelctl_reply $_tunnelctl_commands
		fi
		return 0
	fi

	# The value of a command's option.
	# --soracom takes its optional BASE only as "--soracom=BASE".
	if [[ $prev == --* ]] && [[ $prev != --soracom || $eqval == 1 ]] &&
		_tunnelctl_value "$prev"; then
		return 0
	fi

	case $cmd in
	start)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply $_tunnelctl_tunnel_opts
		else
			COMPREPLY=()	# a new tunnel's name: nothing to offer
		fi ;;
	stop)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply --all
		else
			_tunnelctl_reply $(_tunnelctl_unnamed "$state_dir")
		fi ;;
	restart)
		if ((${#operands[@]} == 0)) && [[ $cur != -* ]]; then
			_tunnelctl_reply $(_tunnelctl_names "$state_dir")
		else
			COMPREPLY=()
		fi ;;
	status)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply --json
		else
			_tunnelctl_reply $(_tunnelctl_unnamed "$state_dir")
		fi ;;
	sync)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply $_tunnelctl_source_opts
		else
			COMPREPLY=()
		fi ;;
	watch)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply $_tunnelctl_watch_opts
		else
			COMPREPLY=()
		fi ;;
	key)
		if [[ $cur == -* ]]; then
			_tunnelctl_reply --json
		else
			COMPREPLY=()
		fi ;;
	help)
		if ((${#operands[@]} == 0)); then
			_tunnelctl_reply $_tunnelctl_commands
		else
			COMPREPLY=()
		fi ;;
	*)
		COMPREPLY=() ;;
	esac
	return 0
}

complete -F _tunnelctl tunnelctl
