#!/bin/bash
# t_completion.sh: the bash and zsh completions offer the commands, the
# options of each command, the values of --via, files and directories where
# a path is expected, and tunnel names from the state directory (not its
# dot-entries). bash: the completion function is called with COMP_WORDS set
# as bash would. zsh: a real interactive zsh in a pty (zsh/zpty) completes a
# line and the matches are captured. Needs no root and no network. TAP.

set -u

TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TC_SRCDIR/tests/integration/lib.sh"
BASHCOMP=$TC_SRCDIR/completions/tunnelctl.bash
ZSHDIR=$TC_SRCDIR/completions


tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_completion.XXXXXX") || exit 1
at_exit "rm -rf '$tmp'"

# A state directory as tunnelctl leaves it: two tunnels and its own entries.
sd=$tmp/state
mkdir -p "$sd/alpha" "$sd/beta" "$sd/.lock" "$sd/.fetch" "$sd/.localnet"
: >"$sd/stray-file"
mkdir -p "$tmp/files/keydir"
: >"$tmp/files/key-one"
: >"$tmp/files/key-two"

commands="help key restart start status stop sync version watch"
global_opts="--help --json --quiet --settings --state-dir --verbose --version --wait"
tunnel_opts="--cacert --certificate --gate --host-key --id --interface --keepalive --key --local-port
--remote-bind --remote-port --run-as --server --soracom --source --target --timeout --via"
source_opts="--cacert --id --interface --soracom --source --splay"
watch_opts="--cacert --id --interface --interval --soracom --source"

norm() { tr -s ' \n' '\n\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# expect SHELL DESCRIPTION EXPECTED GOT
expect() {
	local want got
	want=$(printf '%s' "$3" | norm)
	got=$(printf '%s' "$4" | norm)
	if [ "$want" = "$got" ]; then
		ok "$1: $2"
	else
		not_ok "$1: $2"
		echo "#   want: $want"
		echo "#   got:  $got"
	fi
}

# ---- bash ---------------------------------------------------------------

# bcomp [ENV=VAL...] -- LINE: complete LINE (the cursor at its end) in a fresh
# bash, one match per line. Words are split on blanks; a trailing blank
# starts a new, empty word, as in an interactive shell.
bcomp() {
	local -a envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env -u TUNNELCTL_STATE_DIR "${envs[@]}" bash --norc --noprofile -c '
		source "$1" || exit 9
		line=$2
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		_tunnelctl tunnelctl "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}"' bcomp "$BASHCOMP" "$1"
}

if bash --norc --noprofile -n "$BASHCOMP" 2>"$tmp/err"; then
	ok "bash: completion file parses"
else
	not_ok "bash: completion file parses"; sed 's/^/# /' "$tmp/err"
fi
if bash --norc --noprofile -c 'source "$1" && complete -p tunnelctl' b "$BASHCOMP" \
	| grep -q -- '-F _tunnelctl tunnelctl'; then
	ok "bash: registers _tunnelctl for tunnelctl"
else
	not_ok "bash: registers _tunnelctl for tunnelctl"
fi

expect bash "commands after 'tunnelctl '" "$commands" "$(bcomp -- 'tunnelctl ')"
expect bash "commands matching 'tunnelctl st'" "start status stop" \
	"$(bcomp -- 'tunnelctl st')"
expect bash "global options after 'tunnelctl --'" "$global_opts" \
	"$(bcomp -- 'tunnelctl --')"
expect bash "tunnel options after 'tunnelctl start x --'" "$tunnel_opts" \
	"$(bcomp -- 'tunnelctl start x --')"
expect bash "source options after 'tunnelctl sync --'" "$source_opts" \
	"$(bcomp -- 'tunnelctl sync --')"
expect bash "watch options after 'tunnelctl watch --'" "$watch_opts" \
	"$(bcomp -- 'tunnelctl watch --')"
expect bash "'watch --interv' offers --interval" "--interval" "$(bcomp -- 'tunnelctl watch --interv')"
expect bash "'watch --interval ' offers no value" "" "$(bcomp -- 'tunnelctl watch --interval ')"
expect bash "'watch --interval 30s --' still offers watch options" "$watch_opts" \
	"$(bcomp -- 'tunnelctl watch --interval 30s --')"
expect bash "'key --' offers --json" "--json" "$(bcomp -- 'tunnelctl key --')"
expect bash "'key ' offers nothing" "" "$(bcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl key ')"
expect bash "'--via ' offers direct dnat" "direct dnat" \
	"$(bcomp -- 'tunnelctl start x --via ')"
expect bash "'--via dn' offers dnat" "dnat" \
	"$(bcomp -- 'tunnelctl start x --server h --via dn')"
expect bash "'sync --interface ' offers this host's interfaces" \
	"$(ls /sys/class/net)" "$(bcomp -- 'tunnelctl sync --interface ')"
expect bash "'sync --interface l' offers lo" "lo" \
	"$(bcomp -- 'tunnelctl sync --interface l' | grep -x lo)"
expect bash "'stop ' offers tunnels from TUNNELCTL_STATE_DIR, no dot-entries" \
	"alpha beta" "$(bcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl stop ')"
expect bash "'stop alpha ' does not offer alpha again" "beta" \
	"$(bcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl stop alpha ')"
expect bash "'status ' offers tunnels" "alpha beta" \
	"$(bcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl status ')"
expect bash "'restart ' offers tunnels" "alpha beta" \
	"$(bcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl -q restart ')"
expect bash "'--state-dir DIR stop ' reads DIR" "alpha beta" \
	"$(bcomp -- "tunnelctl --state-dir $sd stop ")"
expect bash "'--wait 5 --state-dir DIR stop ' skips option values" "alpha beta" \
	"$(bcomp -- "tunnelctl --wait 5 --state-dir $sd stop ")"
expect bash "'stop --state-dir DIR ' (global option after the command) reads DIR" \
	"alpha beta" "$(bcomp -- "tunnelctl stop --state-dir $sd ")"
expect bash "missing state directory offers nothing" "" \
	"$(bcomp TUNNELCTL_STATE_DIR="$tmp/none" -- 'tunnelctl stop ')"
expect bash "'stop --' offers --all" "--all" "$(bcomp -- 'tunnelctl stop --')"
expect bash "'help ' offers commands" "$commands" "$(bcomp -- 'tunnelctl help ')"
expect bash "'--key' completes files" "$tmp/files/key-one $tmp/files/key-two" \
	"$(bcomp -- "tunnelctl start x --key $tmp/files/key-")"
expect bash "'--state-dir' completes directories only" "$tmp/files/keydir" \
	"$(bcomp -- "tunnelctl --state-dir $tmp/files/k")"

# '=' is in COMP_WORDBREAKS, so "--via=" reaches the function as three words.
got=$(env -u TUNNELCTL_STATE_DIR bash --norc --noprofile -c '
	source "$1"
	COMP_WORDS=(tunnelctl start x --via = ""); COMP_CWORD=5
	_tunnelctl 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' b "$BASHCOMP")
expect bash "'--via=' (split at '=') offers direct dnat" "direct dnat" "$got"

# ---- zsh ----------------------------------------------------------------

if ! command -v zsh >/dev/null 2>&1; then
	skip "zsh not installed"
	done_testing
	exit 0
fi

if zsh -n "$ZSHDIR/_tunnelctl" 2>"$tmp/err"; then
	ok "zsh: _tunnelctl parses"
else
	not_ok "zsh: _tunnelctl parses"; sed 's/^/# /' "$tmp/err"
fi
if head -n 1 "$ZSHDIR/_tunnelctl" | grep -qx '#compdef tunnelctl'; then
	ok "zsh: first line is #compdef tunnelctl"
else
	not_ok "zsh: first line is #compdef tunnelctl"
fi
if zsh -f -c 'fpath=("$1" $fpath); autoload -U compinit; compinit -u -D
	[[ $_comps[tunnelctl] == _tunnelctl ]]' z "$ZSHDIR" 2>"$tmp/err"; then
	ok "zsh: compinit binds tunnelctl to _tunnelctl"
else
	not_ok "zsh: compinit binds tunnelctl to _tunnelctl"; sed 's/^/# /' "$tmp/err"
fi

if ! zsh -f -c 'zmodload zsh/zpty' 2>/dev/null; then
	skip "zsh/zpty module not available: no live zsh completion"
	done_testing
	exit 0
fi

# capture.zsh COMPDIR OUT LINE: type LINE and TAB into an interactive zsh -f
# in a pty; every match that completion adds is written to OUT. compadd is
# wrapped so the matches are recorded as they are added; the TAB key runs
# complete-word and then marks OUT.done, so we know when it has finished.
cat >"$tmp/capture.zsh" <<'EOF'
zmodload zsh/zpty || exit 2
compdir=$1 out=$2 line=$3
rm -f -- $out $out.done
cat >| $out.init <<EOI
PS1='' PROMPT='' RPROMPT='' PS2=''
fpath=(${(q)compdir} \$fpath)
autoload -U compinit; compinit -u -D
compadd() {
  if (( \${@[(I)-[OAD]]} )); then builtin compadd "\$@"; return; fi
  local -a __m
  builtin compadd -A __m "\$@"
  (( \$#__m )) && print -rl -- \$__m >> ${(q)out}
  builtin compadd "\$@"
}
_tc_capture() { zle complete-word; print -r -- done >| ${(q)out}.done; }
zle -N _tc_capture
bindkey '^I' _tc_capture
EOI
zpty tc zsh -f -i
zpty -w tc "source ${(q)out}.init"
zpty -w -n tc "$line"$'\t'
integer i
for (( i = 0; i < 100; i++ )); do
  [[ -e $out.done ]] && break
  sleep 0.1
done
zpty -d tc
[[ -e $out.done ]] || { print -u2 "zsh completion capture timed out"; exit 1 }
[[ -e $out ]] && cat -- $out
exit 0
EOF

# zcomp [ENV=VAL...] -- LINE
zcomp() {
	local -a envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env -u TUNNELCTL_STATE_DIR "${envs[@]}" \
		zsh -f "$tmp/capture.zsh" "$ZSHDIR" "$tmp/zout" "$1"
}

expect zsh "commands after 'tunnelctl '" "$commands" "$(zcomp -- 'tunnelctl ')"
expect zsh "global options after 'tunnelctl --'" "$global_opts" \
	"$(zcomp -- 'tunnelctl --')"
expect zsh "tunnel options after 'tunnelctl start x --'" "$tunnel_opts" \
	"$(zcomp -- 'tunnelctl start x --')"
expect zsh "source options after 'tunnelctl sync --'" "$source_opts" \
	"$(zcomp -- 'tunnelctl sync --')"
expect zsh "watch options after 'tunnelctl watch --'" "$watch_opts" \
	"$(zcomp -- 'tunnelctl watch --')"
expect zsh "'key --' offers --json" "--json" "$(zcomp -- 'tunnelctl key --')"
expect zsh "'--via ' offers direct dnat" "direct dnat" \
	"$(zcomp -- 'tunnelctl start x --via ')"
expect zsh "'stop ' offers tunnels from TUNNELCTL_STATE_DIR, no dot-entries" \
	"alpha beta" "$(zcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl stop ')"
expect zsh "'stop alpha ' does not offer alpha again" "beta" \
	"$(zcomp TUNNELCTL_STATE_DIR="$sd" -- 'tunnelctl stop alpha ')"
expect zsh "'--state-dir DIR restart ' reads DIR" "alpha beta" \
	"$(zcomp -- "tunnelctl --state-dir $sd restart ")"
expect zsh "'status --' offers --json" "--json" "$(zcomp -- 'tunnelctl status --')"
expect zsh "'help ' offers commands" "$commands" "$(zcomp -- 'tunnelctl help ')"

done_testing
