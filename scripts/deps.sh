#!/usr/bin/env bash
# deps.sh — installs every Debian package tcplab's build, tests, demo and
# benchmarks need.  Idempotent and non-interactive: packages already installed
# are left alone, `apt-get update` runs only when something is missing, and
# nothing prompts (tshark's "allow non-root capture?" question is preseeded).
#
# Usage (as root, on Debian 12 or later):   bash scripts/deps.sh
#        or                                  make deps
set -euo pipefail

# Package -> why it is needed.  Keep this list in step with README.md.
PKGS=(
	build-essential   # gcc, make: the build
	pkg-config        # Makefile finds libpcap/libnftables/cmocka flags
	libnet1-dev       # craft: injects crafted TCP segments
	libpcap-dev       # capture: sniffs and reads/writes pcap files
	libnftables-dev   # firewall: drops the local kernel's RST for a crafted connection
	nftables          # nft(8): integration tests inspect and add rules (loss, SYN drop)
	libcmocka-dev     # unit tests
	iproute2          # ip netns / veth for the test lab and demos
	tcpdump           # integration tests: independent capture in the server namespace
	tshark            # integration tests: independent decoder of captures and -w files
	tcptrace          # bench: comparison with an existing trace analyser
	python3           # integration tests
	python3-pytest    # integration tests
	python3-scapy     # bench: comparison with a Python packet crafter
	valgrind          # `make check`: memory checks
	netcat-openbsd    # integration tests: kernel client (nc)
	curl              # demo: a real HTTP client as the kernel-side peer
	procps            # ps/pkill-free process inspection used by scripts (ps, pgrep)
	util-linux        # setpriv/runuser: the non-root permission test
	debhelper         # the Debian package (dh, compat 13): make deb, .ci/run
	lintian           # the package's lint check (scripts/build-deb.sh)
	bash-completion   # tests of the bash completion as bash-completion loads it
	zsh               # tests of the zsh completion
	libcap2-bin       # setcap/getcap: make install-caps and its test
	zlib1g-dev        # replay: reads gzip-compressed captures (src/instream.c)
	clang             # make fuzz: libFuzzer harnesses (tests/fuzz/)
	libclang-rt-14-dev # make fuzz: libFuzzer and sanitizer runtimes for clang 14
	libtracefs-dev    # ktrace: the kernel's own socket states (tracepoint sock:inet_sock_set_state)
	libtraceevent-dev # ktrace: parses the tracepoint's records
	librsvg2-bin      # integration tests: rsvg-convert renders --svg diagrams to PNG
	ethtool           # tests and bench: GSO/TSO/GRO off on the lab veth (MSS-sized segments)
	time              # integration tests: /usr/bin/time -f %M, peak memory of a 100 MB upload
)

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: installing packages needs root; run: sudo bash scripts/deps.sh" >&2
	exit 1
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: this script supports Debian/Ubuntu (apt-get, dpkg) only" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# A package counts as installed only when dpkg says "install ok installed".
is_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PKGS[@]}"; do
	if is_installed "$p"; then
		echo "deps.sh: already installed: $p"
	else
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#PKGS[@]} packages are installed; nothing to do"
	exit 0
fi

echo "deps.sh: will install: ${missing[*]}"

# tshark's postinst asks whether non-root users may capture; answer "no"
# beforehand so the install never stops at a prompt.  debconf-set-selections
# ships with debconf, which every Debian system has.
if command -v debconf-set-selections >/dev/null 2>&1; then
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
fi

apt-get update -q
apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"

# Check: every package is really there now.
failed=()
for p in "${missing[@]}"; do
	is_installed "$p" || failed+=("$p")
done
if [ "${#failed[@]}" -ne 0 ]; then
	echo "deps.sh: failed to install: ${failed[*]}" >&2
	exit 1
fi
echo "deps.sh: installed: ${missing[*]}"
