#!/usr/bin/env bash
# deb.sh — the Debian package end to end (run by .ci/run, as root, on a
# Debian 12 machine): build it with dpkg-buildpackage (scripts/build-deb.sh,
# which fails on a lintian error or warning), install it with
# `apt-get install ./tcplab_*.deb`, check what it put where, and run the
# default demo from the installed copy, from / so nothing can come from this
# tree.  The package is removed again at the end unless it was installed
# before (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
	echo "deb.sh: installing a package and running the demo need root" >&2
	exit 1
fi
OUT=$(mktemp -d /tmp/tcplab-debout.XXXXXX)
chmod 0755 "$OUT"           # apt's _apt user reads the .deb from here
was_installed=no
[ "$(dpkg-query -W -f='${Status}' tcplab 2>/dev/null)" = "install ok installed" ] && was_installed=yes
cleanup() {
	if [ "$was_installed" = no ] && [ "${KEEP:-0}" != 1 ]; then
		apt-get purge -y -q tcplab >/dev/null 2>&1 || true
	fi
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fail() { echo "deb.sh: FAIL: $*" >&2; exit 1; }

version=$(awk 'NR == 1 { gsub(/[()]/, "", $2); print $2 }' debian/changelog)
arch=$(dpkg --print-architecture)
deb=$(bash scripts/build-deb.sh "$OUT" | tail -n 1)
[ "$(basename "$deb")" = "tcplab_${version}_${arch}.deb" ] || fail "unexpected package name $deb"
echo "deb.sh: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# Depends from shlibs: the three libraries tcplab links
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libpcap0.8 libnet1 libnftables1 libc6 iproute2; do
	grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done

apt-get install -y -q -o DPkg::Lock::Timeout=900 "$deb" >"$OUT/apt.log" 2>&1 ||
	{ cat "$OUT/apt.log" >&2; fail "apt-get install $deb"; }
for f in /usr/bin/tcplab /usr/share/man/man1/tcplab.1.gz \
	/usr/share/bash-completion/completions/tcplab /usr/share/zsh/vendor-completions/_tcplab \
	/usr/share/tcplab/demo.sh /usr/libexec/tcplab/tcpserver /usr/share/doc/tcplab/copyright; do
	dpkg -S "$f" >/dev/null 2>&1 || fail "$f is not in the package"
	[ -e "$f" ] || fail "$f is not installed"
done
if [ -d scripts/demos ]; then
	for f in $(cd scripts && find demos -type f); do
		[ -f "/usr/share/tcplab/$f" ] || fail "/usr/share/tcplab/$f is not installed"
	done
fi
/usr/bin/tcplab --version | head -n 1 | grep -qx "tcplab version $version" ||
	fail "tcplab --version does not say $version"
zcat /usr/share/man/man1/tcplab.1.gz | head -n 1 | grep -q "\"tcplab $version\"" ||
	fail "the manual's header does not say $version"

# the completion, loaded the way bash-completion loads it
if [ -f /usr/share/bash-completion/bash_completion ]; then
	got=$(bash --norc -c 'source /usr/share/bash-completion/bash_completion
		_completion_loader tcplab; COMP_WORDS=(tcplab con); COMP_CWORD=1; _tcplab
		echo "${COMPREPLY[*]}"')
	[ "$got" = connect ] || fail "bash completion of 'tcplab con' gave '$got'"
fi

# the default demo, from the installed copy
(cd / && timeout 120 /usr/bin/tcplab demo) >"$OUT/demo.out" 2>&1 ||
	{ cat "$OUT/demo.out" >&2; fail "tcplab demo exited $?"; }
for s in SYN-SENT ESTABLISHED TIME-WAIT; do
	grep -q "$s" "$OUT/demo.out" || { cat "$OUT/demo.out" >&2; fail "the demo shows no $s"; }
done
echo "deb.sh: installed package ran its demo ($(grep -c '' "$OUT/demo.out") lines); ok"
