#!/bin/zsh -f
# zsh-complete.zsh — what zsh's completion offers for a command line, one
# match a line, by driving an interactive zsh in a pseudo-terminal.
#
#   zsh -f tests/pkg/zsh-complete.zsh FPATH_DIR "tcplab connect --clo"
#
# FPATH_DIR holds _tcplab; the tcplab to ask is found on $PATH (or is the
# command line's first word when that is a path).  compadd is wrapped so
# that every match _tcplab adds is printed as "HIT:match".
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "PROMPT=; PATH=${(q)PATH}; cd ${(q)PWD}"
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; typeset -a __hits; builtin compadd -A __hits "$@"; (( $#__hits )) && print -l -- HIT:${^__hits}; builtin compadd "$@"; }'
zpty -w z 'comptest () { zle -C _c complete-word _main_complete; zle _c; print -r -- "<<"END">>"; }'
zpty -w z 'zle -N comptest; bindkey "^T" comptest'
zpty -n -w z "$2"$'\C-T'
local line
while zpty -r z line; do
	line=${${line//$'\r'/}//$'\n'/}
	[[ $line == *'<<END>>'* ]] && break
	# a first match may share the line with the echo of the command line
	[[ $line == *HIT:* && $line != *'${^__hits}'* ]] && print -r -- "${line##*HIT:}"
done
zpty -d z
