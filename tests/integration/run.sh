#!/usr/bin/env bash
# run.sh — runs tcplab's integration tests (network namespaces; needs root).
#
#   bash tests/integration/run.sh [pytest args...]     e.g. -k connect, -x
#
# Uses Debian's /usr/bin/python3 (python3-pytest); $TCPLAB overrides the
# binary under test (default ./tcplab).  The tests create and delete their
# own namespaces (tl-<pid>-*) and never touch any other interface.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, raw sockets, nftables): run: sudo bash tests/integration/run.sh" >&2
	exit 1
fi
PY=/usr/bin/python3
if ! "$PY" -c 'import pytest' 2>/dev/null; then
	echo "integration tests need python3-pytest: run: sudo bash scripts/deps.sh" >&2
	exit 1
fi
make -s lab
# Test paths given on the command line replace the default (the whole
# directory), so a file is not collected twice.
target=tests/integration
for a in "$@"; do
	case "$a" in
	-*) ;;
	*) [ -e "${a%%::*}" ] && target= ;;
	esac
done
# -p no:cacheprovider: leave no .pytest_cache in the tree.
exec "$PY" -m pytest -q -p no:cacheprovider $target "$@"
