#!/usr/bin/env bash
# build-deb.sh — builds tcplab's Debian package in a copy of this tree, so
# the tree gets no debian/tcplab/, build/ or parent-directory files.
#
#   bash scripts/build-deb.sh [OUTDIR]      (make deb: OUTDIR = build/deb)
#
# Prints the path of the .deb last.  Needs the Build-Depends of
# debian/control (bash scripts/deps.sh installs them) and, when lintian is
# installed, runs it: an error or warning not overridden (with its reason)
# in debian/tcplab.lintian-overrides fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OUT=${1:-$SRC/build/deb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/tcplab-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM HUP

# the sources as they are now (tracked and new files), without build output
mkdir "$WORK/tcplab"
tar -C "$SRC" --exclude=./build --exclude=./tcplab --exclude=./.git \
	--exclude='./debian/tcplab' --exclude='./debian/.debhelper' --exclude='*.o' \
	--exclude=__pycache__ --exclude=.pytest_cache -cf - . | tar -C "$WORK/tcplab" -xf -

(cd "$WORK/tcplab" && dpkg-buildpackage -us -uc -b -j2) >"$WORK/build.log" 2>&1 || {
	tail -n 60 "$WORK/build.log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
changes=$(ls "$WORK"/tcplab_*.changes)
if command -v lintian >/dev/null 2>&1; then
	# --fail-on warning: errors and warnings fail; info/pedantic are shown
	lintian --info --display-info --fail-on error,warning "$changes" | tee "$WORK/lintian.log" >&2 || {
		echo "build-deb.sh: lintian found errors or warnings (above)" >&2
		exit 1
	}
fi
cp "$WORK"/tcplab_*.deb "$WORK/build.log" "$OUT"/
[ -f "$WORK/lintian.log" ] && cp "$WORK/lintian.log" "$OUT"/
version=$(awk 'NR == 1 { gsub(/[()]/, "", $2); print $2 }' debian/changelog)
deb="$OUT/tcplab_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || { echo "build-deb.sh: $deb was not built" >&2; exit 1; }
echo "$deb"
