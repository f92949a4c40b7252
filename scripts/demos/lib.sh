# lib.sh — the small lab library every demo in scripts/demos/ sources.
#
# A demo file is a bash script that sources this file, calls demo_init with
# its name, builds its lab with lab_up, says what to look at (say_intro),
# runs tcplab and kernel programs in the lab, and ends with say_result
# (what was seen, computed from the run).  It is run by scripts/demo.sh:
#
#   bash scripts/demo.sh NAME [--json] [tcplab options...]
#
# The lab: namespaces tldemo-<pid>-c (client) and tldemo-<pid>-s (server)
# joined by one veth pair created inside them (c0 / s0), addresses from
# 198.18.0.0/15 (RFC 2544's benchmarking range), no default route, so no
# packet can leave the machine.  Every namespace, nftables table, sysctl
# change, process and temporary file a demo makes is registered here and
# removed by one trap on every exit path: normal end, error (set -e),
# SIGINT, SIGTERM, SIGHUP.  Sysctls are only ever set inside the demo's own
# namespaces (tcp_syncookies, tcp_max_syn_backlog, ... are per network
# namespace), so deleting the namespace would undo them anyway; they are
# restored first all the same.
#
# Output: in text mode paragraphs are wrapped to 100 columns and every tcplab
# run prints its trace; with --json every line on stdout is one JSON object:
# tcplab's own events (docs/json-schema.md) and the demo's events
#   {"event":"demo","demo":N,"phase":"intro"|"result"|"skipped","text":S[,"facts":{...}]}
#   {"event":"run","demo":N,"run":K,"where":"client"|"server","command":S}
#   {"event":"run-exit","demo":N,"run":K,"exit":RC}
#   {"event":"observation","demo":N,"source":S,"text":S}
#   {"event":"socket-call",...}  (socket-calls demo)
# so a grader can check a demo from stdout alone.

set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TCPLAB=${TCPLAB:-$DEMO_DIR/../../tcplab}
# Lab programs (tcpserver, synflood): the build tree's build/lab, or where
# `tcplab demo` says they are installed.
LABDIR=${TCPLAB_LABDIR:-$DEMO_DIR/../../build/lab}
PY=${TCPLAB_PYTHON:-python3}

NS_C="tldemo-$$-c"
NS_S="tldemo-$$-s"
IF_C=c0
IF_S=s0
C_ADDR=198.18.77.1
S_ADDR=198.18.77.2
PORT=8080

DEMO_NAME=
JSON=0
PASS=()            # options passed through to every tcplab trace command
RUN=0              # runs so far
LAST_JSON=         # JSON Lines of the last run (both modes)
LAST_RC=0
WORK=

_NAMESPACES=()
_PIDS=()
_SYSCTLS=()        # "ns|key|old value"
_NFT=()            # "ns|family|table"
_CLEANED=0

# ---------------------------------------------------------------------------
# Clean-up: one function, every exit path
# ---------------------------------------------------------------------------

_cleanup() {
	local rc=$? x ns key old fam tab pid
	[ "$_CLEANED" = 1 ] && return 0
	_CLEANED=1
	set +e
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_PIDS[@]}"; do
		# up to 2 s each, then SIGKILL: a demo never hangs on its clean-up
		for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for x in "${_NFT[@]}"; do
		IFS='|' read -r ns fam tab <<<"$x"
		ip netns exec "$ns" nft delete table "$fam" "$tab" 2>/dev/null
	done
	for ((i = ${#_SYSCTLS[@]} - 1; i >= 0; i--)); do
		IFS='|' read -r ns key old <<<"${_SYSCTLS[$i]}"
		ip netns exec "$ns" sysctl -q -w "$key=$old" >/dev/null 2>&1
	done
	for ns in "${_NAMESPACES[@]}"; do
		# processes still inside (ours: nothing else runs in our namespaces)
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$WORK" ] && rm -rf "$WORK"
	return "$rc"
}

_on_signal() {
	trap - INT TERM HUP
	exit 130
}

# demo_init NAME "$@": parses the demo's options, checks root and the
# binaries, installs the clean-up trap, makes the work directory.
demo_init() {
	DEMO_NAME=$1
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--json) JSON=1 ;;
		*) PASS+=("$1") ;;
		esac
		shift
	done
	if [ "$(id -u)" -ne 0 ]; then
		echo "demo $DEMO_NAME: the demo creates network namespaces: run it as root (sudo)" >&2
		exit 6
	fi
	for f in "$TCPLAB" "$LABDIR/tcpserver"; do
		[ -x "$f" ] || { echo "demo $DEMO_NAME: $f is missing: run make && make lab" >&2; exit 1; }
	done
	trap _cleanup EXIT
	trap _on_signal INT TERM HUP
	WORK=$(mktemp -d "/tmp/tldemo-$$.XXXXXX")
}

# ---------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------

# lab_up: the two namespaces and the veth pair between them.
lab_up() {
	ip netns add "$NS_C"
	_NAMESPACES+=("$NS_C")
	ip netns add "$NS_S"
	_NAMESPACES+=("$NS_S")
	# Created inside the client namespace, the far end moved straight to the
	# server's: the names never exist in the root namespace, so parallel
	# demos cannot collide on them.
	ip -n "$NS_C" link add "$IF_C" type veth peer name "$IF_S" netns "$NS_S"
	ip -n "$NS_C" addr add "$C_ADDR/24" dev "$IF_C"
	ip -n "$NS_S" addr add "$S_ADDR/24" dev "$IF_S"
	for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
	ip -n "$NS_C" link set "$IF_C" up
	ip -n "$NS_S" link set "$IF_S" up
	# Static neighbours: no ARP exchange before the first SYN, so every
	# trace starts with the segment the lesson is about.
	local mc ms
	mc=$(ip -n "$NS_C" -br link show "$IF_C" | awk '{print $3}')
	ms=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')
	ip -n "$NS_C" neigh replace "$S_ADDR" lladdr "$ms" dev "$IF_C" nud permanent
	ip -n "$NS_S" neigh replace "$C_ADDR" lladdr "$mc" dev "$IF_S" nud permanent
}

# ns_of client|server -> namespace name
ns_of() { if [ "$1" = client ]; then echo "$NS_C"; else echo "$NS_S"; fi; }

# lab_sysctl client|server KEY VALUE: sets a per-namespace sysctl inside the
# demo's namespace, remembering the old value for the clean-up.
lab_sysctl() {
	local ns old
	ns=$(ns_of "$1")
	old=$(ip netns exec "$ns" sysctl -n "$2")
	_SYSCTLS+=("$ns|$2|$old")
	ip netns exec "$ns" sysctl -q -w "$2=$3" >/dev/null
}

# lab_nft client|server FAMILY TABLE < ruleset: loads a table in the demo's
# namespace and registers it for deletion.
lab_nft() {
	local ns
	ns=$(ns_of "$1")
	_NFT+=("$ns|$2|$3")
	ip netns exec "$ns" nft -f -
}

# lab_nft_del client|server FAMILY TABLE
lab_nft_del() { ip netns exec "$(ns_of "$1")" nft delete table "$2" "$3"; }

# lab_bg client|server ARGV...: starts a process in a namespace, in the
# background; its pid is in BG_PID and is ended by the clean-up.  `ip netns
# exec` execs the command, so the pid is the command's own.
lab_bg() {
	local ns
	ns=$(ns_of "$1")
	shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	_PIDS+=("$BG_PID")
}

# lab_stop PID [SIGNAL]: ends one of our background processes and waits.
lab_stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# lab_server MODE [tcpserver options...]: the lab's kernel server
# (tests/lab/tcpserver) on S_ADDR:PORT; returns once it listens.  Its
# per-connection log is $WORK/server.jsonl.  SERVER_PID is its pid.
lab_server() {
	local mode=$1 ready="$WORK/server.ready"
	shift
	: >"$ready"
	ip netns exec "$NS_S" "$LABDIR/tcpserver" --addr "$S_ADDR" --port "$PORT" --mode "$mode" \
		--log "$WORK/server.jsonl" "$@" >"$ready" &
	SERVER_PID=$!
	_PIDS+=("$SERVER_PID")
	for _ in $(seq 200); do grep -q ready "$ready" && return 0; sleep 0.025; done
	echo "demo $DEMO_NAME: the lab server did not start" >&2
	return 1
}

lab_server_stop() {
	[ -n "${SERVER_PID:-}" ] && lab_stop "$SERVER_PID"
	SERVER_PID=
}

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

# json_str TEXT -> TEXT as a JSON string literal
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

_paragraph() { printf '%s\n' "$1" | fold -s -w 100 | sed 's/ *$//'; }

# say_intro TEXT: the opening paragraph (what to look at).
say_intro() {
	if [ "$JSON" = 1 ]; then
		printf '{"event":"demo","demo":%s,"phase":"intro","text":%s}\n' \
			"$(json_str "$DEMO_NAME")" "$(json_str "$1")"
	else
		printf '\n=== demo %s\n\n' "$DEMO_NAME"
		_paragraph "$1"
	fi
}

# say_result TEXT [FACTS_JSON]: the closing paragraph (what was seen), with
# the figures it was computed from as a JSON object for graders.
say_result() {
	if [ "$JSON" = 1 ]; then
		printf '{"event":"demo","demo":%s,"phase":"result","text":%s,"facts":%s}\n' \
			"$(json_str "$DEMO_NAME")" "$(json_str "$1")" "${2:-{\}}"
	else
		printf '\n'
		_paragraph "What was seen: $1"
	fi
}

# say TEXT: a line of commentary between runs (text mode only).
say() { [ "$JSON" = 1 ] || { echo; _paragraph "$1"; }; }

# observe SOURCE TEXT: a kernel-side observation (ss, nstat, a lab
# program's log) printed as it is.
observe() {
	if [ "$JSON" = 1 ]; then
		printf '{"event":"observation","demo":%s,"source":%s,"text":%s}\n' \
			"$(json_str "$DEMO_NAME")" "$(json_str "$1")" "$(json_str "$2")"
	else
		printf '\n[%s]\n%s\n' "$1" "$2"
	fi
}

_run_begin() { # WHERE COMMAND-TEXT
	RUN=$((RUN + 1))
	if [ "$JSON" = 1 ]; then
		printf '{"event":"run","demo":%s,"run":%d,"where":%s,"command":%s}\n' \
			"$(json_str "$DEMO_NAME")" "$RUN" "$(json_str "$1")" "$(json_str "$2")"
	else
		printf '\n--- run %d, in the %s namespace\n$ sudo %s\n\n' "$RUN" "$1" "$2"
	fi
}

_run_end() {
	if [ "$JSON" = 1 ]; then
		printf '{"event":"run-exit","demo":%s,"run":%d,"exit":%d}\n' \
			"$(json_str "$DEMO_NAME")" "$RUN" "$LAST_RC"
	elif [ "$LAST_RC" != 0 ]; then
		printf '(tcplab exit code %d)\n' "$LAST_RC"
	fi
}

# ---------------------------------------------------------------------------
# Running tcplab
# ---------------------------------------------------------------------------

# run_connect client|server ARGS...: `tcplab connect ARGS` in a namespace.
# Text mode: the trace on stdout (with the pass-through options), and the
# session saved with -w, replayed to JSON for the demo's figures; JSON mode:
# the JSON Lines on stdout and kept; LIVE_JSON=1: text mode keeps the run's
# own JSON (--json-log) instead of a replay.  LAST_JSON, LAST_RC are set.
run_connect() {
	local where=$1 ns
	shift
	ns=$(ns_of "$where")
	_run_begin "$where" "tcplab connect $*"
	LAST_JSON="$WORK/run$RUN.jsonl"
	set +e
	if [ "$JSON" = 1 ]; then
		ip netns exec "$ns" "$TCPLAB" connect "$@" --json "${PASS[@]}" | tee "$LAST_JSON"
		LAST_RC=${PIPESTATUS[0]}
	elif [ "${LIVE_JSON:-0}" = 1 ]; then
		# the run's own events beside the text (--json-log): what the pcap
		# cannot hold, e.g. segments lost on purpose (--lose, --old-syn)
		ip netns exec "$ns" "$TCPLAB" connect "$@" --json-log "$LAST_JSON" "${PASS[@]}"
		LAST_RC=$?
	else
		ip netns exec "$ns" "$TCPLAB" connect "$@" -w "$WORK/run$RUN.pcap" "${PASS[@]}"
		LAST_RC=$?
		"$TCPLAB" replay --json "$WORK/run$RUN.pcap" >"$LAST_JSON" 2>/dev/null
	fi
	set -e
	_run_end
}

# watch_start client|server [FILTER...]: `tcplab watch` on that namespace's
# veth end, in the background, until watch_stop.  Several may run at once
# (both ends of the veth).  The JSON is always kept; in text mode a second,
# text watch (with the pass-through options) makes the trace printed at
# watch_stop.  Returns once the captures are on.
_W=()              # one entry per running watch: "where|cmd|json|text|pids"
_WN=0
watch_start() {
	local where=$1 ns iface pids=() base
	shift
	ns=$(ns_of "$where")
	[ "$where" = client ] && iface=$IF_C || iface=$IF_S
	_WN=$((_WN + 1))
	base="$WORK/watch$_WN"
	ip netns exec "$ns" "$TCPLAB" watch -i "$iface" --json "$@" >"$base.jsonl" 2>"$base.err" &
	pids+=($!)
	_PIDS+=($!)
	if [ "$JSON" = 0 ]; then
		ip netns exec "$ns" "$TCPLAB" watch -i "$iface" "${PASS[@]}" "$@" >"$base.txt" 2>/dev/null &
		pids+=($!)
		_PIDS+=($!)
	fi
	_W+=("$where|tcplab watch -i $iface $*|$base.jsonl|$base.txt|${pids[*]}")
	WATCH_PIDS=("${pids[@]}")
	_wait_capturing
	WATCH_JSON=$base.jsonl
}

# watch_stop [--discard]: SIGINT ends every running watch (each prints its
# summaries); then, in the order they were started, each is shown as a run
# (banner, trace, exit code) — unless --discard.  WATCH_JSONS lists their
# JSON files in that order; LAST_JSON is the last one.
watch_stop() {
	local w where cmd json text pids pid rc
	sleep 0.2   # the last segments reach the captures
	for w in "${_W[@]}"; do
		IFS='|' read -r where cmd json text pids <<<"$w"
		for pid in $pids; do kill -INT "$pid" 2>/dev/null || true; done
	done
	WATCH_JSONS=()
	for w in "${_W[@]}"; do
		IFS='|' read -r where cmd json text pids <<<"$w"
		LAST_RC=0
		for pid in $pids; do
			set +e
			wait "$pid"
			rc=$?
			set -e
			[ "$rc" != 0 ] && LAST_RC=$rc
		done
		WATCH_JSONS+=("$json")
		LAST_JSON=$json
		[ "${1:-}" = --discard ] && continue
		_run_begin "$where" "$cmd"
		if [ "$JSON" = 1 ]; then cat "$json"; else cat "$text"; fi
		_run_end
	done
	_W=()
}

# Waits until every watch of this run has its packet socket open (the
# capture is on), so nothing that follows is missed.
_wait_capturing() {
	local pid ino
	for pid in "${WATCH_PIDS[@]}"; do
		for _ in $(seq 200); do
			# libpcap's packet socket appears in /proc/PID/net/packet
			# (the namespace's list) under one of the process's inodes;
			# it receives once bound to a protocol: column R is 1 (it
			# is 0 while libpcap still allocates its ring)
			ino=$(_socket_inodes "$pid")
			if [ -n "$ino" ] && awk -v ino=" $ino " 'NR > 1 && $6 == 1 && index(ino, " " $NF " ") { f = 1 }
				END { exit !f }' "/proc/$pid/net/packet" 2>/dev/null; then
				break
			fi
			sleep 0.025
		done
	done
	sleep 0.05  # the BPF filter is attached just after
}

_socket_inodes() {
	ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p' | tr '\n' ' '
}

# q FILE PYTHON: evaluates an expression over the events of a JSON Lines file
# (ev: the list of dicts, segs: its segments; helpers below) and prints it
# (JSON for dicts, lists, booleans); statements that set r work too.
q() {
	"$PY" - "$1" "$2" <<-'PY'
	import json, sys
	ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	segs = [e for e in ev if e.get("event") == "segment"]
	def states(endpoint, conn=None):
	    """the states an endpoint went through, in order"""
	    s = [e for e in ev if e.get("event") == "state" and e["endpoint"] == endpoint
	         and (conn is None or e["conn"] == conn)]
	    return ([s[0]["from"]] if s else []) + [e["to"] for e in s]
	def chain(endpoint, conn=None):
	    return " → ".join(states(endpoint, conn))
	def fl(e):
	    return ",".join(e["flags"])
	def summary(conn=1):
	    return next((e for e in ev if e.get("event") == "summary" and e["conn"] == conn), {})
	def state_at(endpoint, i, conn=None):
	    """the endpoint's state just before event index i"""
	    st = None
	    for e in ev[:i]:
	        if e.get("event") == "state" and e["endpoint"] == endpoint and (conn is None or e["conn"] == conn):
	            st = e["to"]
	    return st
	try:
	    r = eval(sys.argv[2])
	except SyntaxError:
	    g = dict(globals())
	    exec(sys.argv[2], g)
	    r = g["r"]
	print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
	PY
}
