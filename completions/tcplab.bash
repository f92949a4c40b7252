# bash completion for tcplab                                 -*- shell-script -*-
#
# Installed as share/bash-completion/completions/tcplab.  Nothing here lists
# an option, a value or a demo: the binary being completed is asked, so the
# completion follows the option table in src/main.c as options are added.
#   tcplab --complete commands        NAME<TAB>WHAT
#   tcplab --complete options CMD     --LONG<TAB>-S<TAB>ARG<TAB>HELP
#   tcplab --complete values OPTION   the words the option accepts
#   tcplab --complete demos           demo names
# Completes: subcommands; each subcommand's options; the values of options
# that take one of a fixed set (--close, --lose, --lang, --color, ...);
# interface names for options whose argument is IFACE (-i); files for FILE
# arguments; capture files (*.pcap, *.pcapng, *.gz) for replay; demo names.
# Works with or without the bash-completion package loaded.

# _tcplab_files PATTERN...: directories, and files matching one of the
# patterns (all files when none), for the word being completed.
_tcplab_files()
{
	local IFS=$'\n' p
	compopt -o filenames 2>/dev/null
	if [ $# -eq 0 ]; then
		COMPREPLY+=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY+=($(compgen -d -- "$cur"))
	for p in "$@"; do
		COMPREPLY+=($(compgen -f -X "!$p" -- "$cur"))
	done
}

_tcplab_interfaces()
{
	local IFS=$'\n' names=() d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && names+=("${d##*/}")
	done
	COMPREPLY+=($(compgen -W "${names[*]}" -- "$cur"))
}

# _tcplab_value OPTION ARGNAME: completes the argument of OPTION into COMPREPLY.
_tcplab_value()
{
	local IFS=$'\n' values
	values=$("$bin" --complete values "$1" 2>/dev/null)
	if [ -n "$values" ]; then
		COMPREPLY+=($(compgen -W "$values" -- "$cur"))
		return
	fi
	case $2 in
	IFACE) _tcplab_interfaces ;;
	FILE | PATH) _tcplab_files ;;
	esac
}

_tcplab()
{
	local cur prev bin cmd line long short arg i
	local -a opts=() argopts=() argnames=() eqopts=() eqnames=()
	local -i cword=$COMP_CWORD npos=0
	local -a words=("${COMP_WORDS[@]}")
	COMPREPLY=()

	# bash splits "--close=cl" into "--close" "=" "cl" (COMP_WORDBREAKS):
	# join such words back so that "--opt=value" is one word
	local -a w=()
	local -i j=0 k
	for ((k = 0; k < ${#words[@]}; k++)); do
		if [ "${words[k]}" = "=" ] && ((j > 0)) && [[ ${w[j - 1]} == -* ]]; then
			w[j - 1]+="="
			((k <= COMP_CWORD)) && ((cword--))
			if ((k + 1 < ${#words[@]})); then
				((k++))
				w[j - 1]+="${words[k]}"
				((k <= COMP_CWORD)) && ((cword--))
			fi
			continue
		fi
		w[j++]=${words[k]}
	done
	words=("${w[@]}")
	cur=${words[cword]}
	prev=
	((cword > 0)) && prev=${words[cword - 1]}

	bin=${words[0]}
	bin=${bin/#\~/$HOME}
	command -v -- "$bin" >/dev/null 2>&1 || return 0

	# the subcommand: the first word that is not an option
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
		else
			local IFS=$'\n'
			COMPREPLY=($(compgen -W "$("$bin" --complete commands 2>/dev/null | cut -f1)" -- "$cur"))
		fi
		return 0
	fi

	# the subcommand's options, and which take an argument
	# (fields split by hand: read would merge the empty ones, tab being
	# whitespace to IFS)
	while IFS= read -r line; do
		long=${line%%$'\t'*} line=${line#*$'\t'}
		short=${line%%$'\t'*} line=${line#*$'\t'}
		arg=${line%%$'\t'*}
		[[ $long == --?* ]] || continue
		opts+=("$long")
		[ -n "$short" ] && opts+=("$short")
		if [[ $arg == \[=* ]]; then
			# an optional argument ("[=WHEN]"): only as --opt=VALUE
			eqopts+=("$long") eqnames+=("${arg#[=}")
		elif [ -n "$arg" ]; then
			argopts+=("$long") argnames+=("$arg")
			[ -n "$short" ] && argopts+=("$short") argnames+=("$arg")
		fi
	done < <("$bin" --complete options "$cmd" 2>/dev/null)

	# "--opt=partial": complete the value after '='
	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*}
		cur=${cur#*=}
		arg=
		for ((k = 0; k < ${#argopts[@]}; k++)); do
			[ "${argopts[k]}" = "$opt" ] && arg=${argnames[k]}
		done
		for ((k = 0; k < ${#eqopts[@]}; k++)); do
			[ "${eqopts[k]}" = "$opt" ] && arg=${eqnames[k]%]}
		done
		_tcplab_value "$opt" "$arg"
		# with '=' a word break, bash replaces only the part after it
		if [[ $COMP_WORDBREAKS != *=* ]]; then
			for ((k = 0; k < ${#COMPREPLY[@]}; k++)); do COMPREPLY[k]="$opt=${COMPREPLY[k]}"; done
		fi
		return 0
	fi

	# the argument of the option just before
	for ((k = 0; k < ${#argopts[@]}; k++)); do
		if [ "${argopts[k]}" = "$prev" ]; then
			_tcplab_value "$prev" "${argnames[k]}"
			return 0
		fi
	done

	if [[ $cur == -* ]]; then
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
		return 0
	fi

	# operands: count those before the word being completed
	for ((i = i + 1; i < cword; i++)); do
		case ${words[i]} in
		--*=*) ;;
		-*)
			for ((k = 0; k < ${#argopts[@]}; k++)); do
				[ "${argopts[k]}" = "${words[i]}" ] && { ((i++)); break; }
			done ;;
		*) ((npos++)) ;;
		esac
	done
	case $cmd in
	replay)
		if ((npos == 0)); then
			_tcplab_files '*.pcap' '*.pcapng' '*.gz'
			[[ - == "$cur"* ]] && COMPREPLY+=(-)
		fi ;;
	demo)
		if ((npos == 0)); then
			local IFS=$'\n'
			COMPREPLY=($(compgen -W "$("$bin" --complete demos 2>/dev/null)" -- "$cur"))
		fi ;;
	esac
	return 0
}
complete -F _tcplab tcplab
