#!/usr/bin/env bash
# demo.sh — tcplab's teaching demos, each in network namespaces of its own.
#
#   bash scripts/demo.sh [NAME|all] [--json] [tcplab options...]
#   bash scripts/demo.sh --list
#
# One file per demo in scripts/demos/NAME.sh, sharing scripts/demos/lib.sh
# (the lab: namespaces, veth, 198.18.0.0/15 addresses, no default route,
# clean-up of everything on every exit path).  `tcplab demo NAME` runs this
# script; `make demo` runs the handshake demo.  DEMOS below is the course's
# order (the issue's table); `all` runs every demo written so far in that
# order and says, in one line each, which ones are not written yet.
# --list prints the demos that can be run, one per line, then "all".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEMOS_DIR=${TCPLAB_DEMOS_DIR:-$HERE/demos}

DEMOS=(handshake server-close refused lost-syn reset lost-final-ack old-duplicate-syn
	simultaneous-open simultaneous-close half-close backlog syn-flood retransmission
	flow-control slow-start udp socket-calls)

# why a demo of the list is not here yet (printed by `all`)
pending_reason() {
	case "$1" in
	*) echo "not written yet" ;;
	esac
}

name=${1:-handshake}
[ $# -gt 0 ] && shift
case "$name" in
hello) name=handshake ;;   # the demo's name before there were several
--list)
	for d in "${DEMOS[@]}"; do [ -f "$DEMOS_DIR/$d.sh" ] && echo "$d"; done
	echo all
	exit 0 ;;
-h | --help)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
esac

json=0
for a in "$@"; do [ "$a" = --json ] && json=1; done

if [ "$name" = all ]; then
	failed=()
	for d in "${DEMOS[@]}"; do
		if [ ! -f "$DEMOS_DIR/$d.sh" ]; then
			why=$(pending_reason "$d")
			if [ "$json" = 1 ]; then
				printf '{"event":"demo","demo":"%s","phase":"skipped","text":"%s"}\n' "$d" "$why"
			else
				printf '\n=== demo %s: skipped, %s\n' "$d" "$why"
			fi
			continue
		fi
		set +e
		bash "$DEMOS_DIR/$d.sh" "$@"
		rc=$?
		set -e
		[ "$rc" = 130 ] && exit 130       # interrupted: stop here, it cleaned up
		[ "$rc" != 0 ] && failed+=("$d")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		echo "demo.sh: these demos did not show what they should: ${failed[*]}" >&2
		exit 1
	fi
	exit 0
fi

if [ ! -f "$DEMOS_DIR/$name.sh" ]; then
	known=" ${DEMOS[*]} "
	if [[ "$known" == *" $name "* ]]; then
		echo "demo.sh: the demo '$name' is not written yet: it $(pending_reason "$name")" >&2
	else
		echo "demo.sh: unknown demo '$name' (bash scripts/demo.sh --list names them)" >&2
	fi
	exit 2
fi
exec bash "$DEMOS_DIR/$name.sh" "$@"
