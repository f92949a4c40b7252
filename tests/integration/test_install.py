"""test_install.py — tcplab as an installed tool (issue 14): `make install`
and `make uninstall` with PREFIX and DESTDIR, the installed binary finding
its own demo files wherever it was installed (and moved), `make
install-caps` and a run without root, and the bash and zsh completion.

Installs go to temporary directories only, never to the machine's /usr.
The completion tests ask the installed completion scripts (bash: the
completion function with COMP_WORDS/COMP_CWORD, as bash calls it; zsh: an
interactive zsh in a pseudo-terminal) and compare what they offer with what
the binary's own --help documents, so new options and demos are covered
without this file naming them.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

import lab as labmod

REPO = labmod.REPO_ROOT
NOBODY = (65534, 65534)


def make(*args, timeout=600):
    r = subprocess.run(["make", "-s", "-C", str(REPO)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, "make %s failed:\n%s%s" % (" ".join(map(str, args)), r.stdout,
                                                        r.stderr)
    return r


def files_under(root):
    """Every file (not directory) under root, as paths relative to root."""
    root = Path(root)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}


def expected_install(prefix_rel):
    """What `make install` must put under PREFIX: {relative path: (source
    file, mode)}.  Derived from the tree: the demos directory and the lab
    helpers are taken as they are, so new ones are expected too."""
    exp = {
        "bin/tcplab": (REPO / "tcplab", 0o755),
        "share/man/man1/tcplab.1": (REPO / "man/tcplab.1", 0o644),
        "share/bash-completion/completions/tcplab": (REPO / "completions/tcplab.bash", 0o644),
        "share/zsh/vendor-completions/_tcplab": (REPO / "completions/_tcplab", 0o644),
    }
    # demo.sh and demos/: scripts (#!) executable, the rest (their library) not
    scripts = [REPO / "scripts/demo.sh"]
    demos = REPO / "scripts/demos"
    if demos.is_dir():
        scripts += [demos / rel for rel in files_under(demos)]
    for src in scripts:
        mode = 0o755 if src.read_bytes()[:2] == b"#!" else 0o644
        exp["share/tcplab/" + src.relative_to(REPO / "scripts").as_posix()] = (src, mode)
    for f in (REPO / "build/lab").iterdir():
        if f.is_file() and os.access(f, os.X_OK):
            exp["libexec/tcplab/" + f.name] = (f, 0o755)
    return {prefix_rel + "/" + k: v for k, v in exp.items()}


def changelog_version():
    """The version of the first debian/changelog entry: the one version."""
    first = (REPO / "debian/changelog").read_text().splitlines()[0]
    return re.match(r"tcplab \(([^)]+)\)", first).group(1)


def help_commands(tcplab):
    """Subcommand names, from the usage lines of `tcplab --help`."""
    out = subprocess.run([tcplab, "--help"], capture_output=True, text=True).stdout
    return {m.group(1) for m in re.finditer(r"^  tcplab ([a-z][a-z-]*)", out, re.M)}


def help_options(tcplab, cmd):
    """{option: help line} for every option `tcplab CMD --help` lists."""
    out = subprocess.run([tcplab, cmd, "--help"], capture_output=True, text=True).stdout
    opts = {}
    for line in out.splitlines():
        m = re.match(r"^\s+(?:(-[A-Za-z0-9]), )?(--[a-z0-9][a-z0-9-]*)", line)
        if m:
            opts[m.group(2)] = line
            if m.group(1):
                opts[m.group(1)] = line
    return opts


def demo_names(prefix):
    """The demos an installation has: one per file of share/tcplab/demos
    (but its library) and "all"; without that directory, the names the
    demo command's help lists."""
    demos = Path(prefix) / "share/tcplab/demos"
    if demos.is_dir():
        names = {p.stem for p in demos.glob("*.sh")
                 if not p.name.startswith(("lib", "_"))}
        return names | {"all"}
    out = subprocess.run([str(Path(prefix) / "bin/tcplab"), "--help"], capture_output=True,
                         text=True).stdout
    m = re.search(r"^  tcplab demo .*\(([^)]*)\)", out, re.M)
    assert m, out
    return {w.strip() for w in m.group(1).split(",")}


@pytest.fixture(scope="module")
def prefix():
    """tcplab installed once with PREFIX in a temporary directory that every
    user may enter (for the run as nobody)."""
    d = Path(tempfile.mkdtemp(prefix="tl-install-"))
    os.chmod(d, 0o755)
    try:
        make("install", "PREFIX=%s" % d)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# -- make install / uninstall -----------------------------------------------

def test_destdir_install_puts_every_file_in_place_and_uninstall_removes_them(tmp_path):
    destdir = tmp_path / "dest"
    make("install", "DESTDIR=%s" % destdir, "PREFIX=/usr")
    exp = expected_install("usr")
    got = files_under(destdir)
    assert got == set(exp), "missing %s, unexpected %s" % (sorted(set(exp) - got),
                                                           sorted(got - set(exp)))
    for rel, (src, mode) in exp.items():
        dst = destdir / rel
        want = src.read_bytes()
        if rel.endswith("man1/tcplab.1"):
            # the manual's header is given the changelog's version
            want = re.sub(rb'^(\.TH .*)"tcplab[^"]*"', rb'\1"tcplab %s"' % changelog_version().encode(),
                          want, count=1)
            assert re.match(rb'\.TH TCPLAB 1 .*"tcplab %s"' % re.escape(changelog_version().encode()),
                            dst.read_bytes()), dst.read_bytes()[:80]
        assert dst.read_bytes() == want, rel
        assert stat.S_IMODE(dst.stat().st_mode) == mode, rel
    assert any(k.startswith("usr/libexec/tcplab/tcpserver") for k in exp)
    # uninstall removes exactly what install put there
    other = destdir / "usr/bin/other-tool"
    other.write_text("not tcplab's\n")
    make("uninstall", "DESTDIR=%s" % destdir, "PREFIX=/usr")
    assert files_under(destdir) == {"usr/bin/other-tool"}


def test_make_builds_what_the_commands_need():
    # `make` alone (not `make lab`) gives the demo its lab server
    make()
    assert os.access(REPO / "build/lab/tcpserver", os.X_OK)
    r = labmod.run([REPO / "tcplab", "--complete", "paths"])
    assert r.returncode == 0, r
    assert "data\t%s/scripts\n" % REPO in r.out
    assert "lab\t%s/build/lab\n" % REPO in r.out


def test_installed_demo_runs_from_its_prefix(prefix):
    tcplab = prefix / "bin/tcplab"
    r = labmod.run([tcplab, "--complete", "paths"], cwd="/")
    assert r.returncode == 0, r
    assert "data\t%s/share/tcplab\n" % prefix in r.out
    assert "lab\t%s/libexec/tcplab\n" % prefix in r.out
    # from /, so nothing can come from the source tree or the working directory
    r = labmod.run([tcplab, "demo"], cwd="/", timeout=120)
    assert r.returncode == 0, r
    for state in ("SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT"):
        assert state in r.out, (state, r)
    # demo.sh runs as the same process (exec), so its namespaces carry this pid
    assert not [ns for ns in labmod.list_namespaces() if ns.startswith("tldemo-%d-" % r.pid)]


def test_data_path_follows_each_install_and_a_move(tmp_path):
    # two installs in a row from one build: neither freezes the other's path
    a, b = tmp_path / "a", tmp_path / "b"
    make("install", "PREFIX=%s" % a)
    make("install", "PREFIX=%s" % b)
    for p in (a, b):
        r = labmod.run([p / "bin/tcplab", "--complete", "paths"], cwd="/")
        assert "data\t%s/share/tcplab\n" % p in r.out, r
        blob = (p / "bin/tcplab").read_bytes()
        assert str(tmp_path).encode() not in blob and b"/usr/local" not in blob
    # the installed tree moved as a whole still finds its files
    moved = tmp_path / "moved"
    b.rename(moved)
    r = labmod.run([moved / "bin/tcplab", "--complete", "paths"], cwd="/")
    assert "data\t%s/share/tcplab\n" % moved in r.out, r
    assert "lab\t%s/libexec/tcplab\n" % moved in r.out, r
    # reached through a symbolic link: the link's target counts
    (tmp_path / "links").mkdir()
    (tmp_path / "links/tcplab").symlink_to(moved / "bin/tcplab")
    r = labmod.run([tmp_path / "links/tcplab", "--complete", "paths"], cwd="/")
    assert "data\t%s/share/tcplab\n" % moved in r.out, r


def test_binary_without_its_files_says_where_it_looked(tmp_path):
    (tmp_path / "bin").mkdir()
    shutil.copy(REPO / "tcplab", tmp_path / "bin/tcplab")
    r = labmod.run([tmp_path / "bin/tcplab", "demo"], cwd="/")
    assert r.returncode == 1, r
    assert "share/tcplab/demo.sh" in r.err and r.out == "", r
    # a data directory without the lab helpers: named, and nothing is set up
    (tmp_path / "share/tcplab").mkdir(parents=True)
    shutil.copy(REPO / "scripts/demo.sh", tmp_path / "share/tcplab/demo.sh")
    r = labmod.run([tmp_path / "bin/tcplab", "demo"], cwd="/")
    assert r.returncode == 1 and "libexec/tcplab/tcpserver" in r.err, r


def test_version_names_tcplab_and_its_libraries():
    r = labmod.run([REPO / "tcplab", "--version"])
    assert r.returncode == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "tcplab version %s" % changelog_version()
    assert re.match(r"libpcap version \d+\.\d+", lines[1]), lines
    assert re.match(r"libnet version \d+\.\d+", lines[2]), lines
    assert re.match(r"libnftables version \d+\.\d+\S* \(built with\), loaded from /\S+"
                    r"libnftables\.so\.\d", lines[3]), lines
    # the same from a subcommand
    r2 = labmod.run([REPO / "tcplab", "replay", "--version"])
    assert r2.returncode == 0 and r2.out == r.out, r2


# -- make install-caps ---------------------------------------------------------

def test_install_caps_lets_an_ordinary_user_run_connect(prefix, loopback_server):
    tcplab = prefix / "bin/tcplab"
    plain = prefix / "tcplab-without-caps"
    shutil.copyfile(tcplab, plain)       # no xattrs: no capabilities
    os.chmod(plain, 0o755)
    try:
        make("install-caps", "PREFIX=%s" % prefix)
        r = labmod.run(["getcap", tcplab])
        assert r.returncode == 0, r
        caps = re.search(r"(cap_[a-z_,]+)[=+]ep", r.out)
        assert caps, r
        assert {"cap_net_raw", "cap_net_admin"} <= set(caps.group(1).split(",")), r
        # an ordinary user, no sudo: the whole connection on loopback
        srv = loopback_server("echo")
        r = labmod.run([tcplab, "connect", "127.0.0.1", srv.port, "--data", "hi"],
                       user=NOBODY, cwd="/")
        assert r.returncode == 0, r
        assert "ESTABLISHED" in r.out and "TIME-WAIT" in r.out, r
        rec = srv.wait_records(1)[0]
        assert rec["received"] == b"hi", rec
        # control: the same binary without the capabilities is refused
        srv2 = loopback_server("echo")
        r = labmod.run([plain, "connect", "127.0.0.1", srv2.port], user=NOBODY, cwd="/")
        assert r.returncode == 6, r
        assert "CAP_NET_RAW" in r.err, r
    finally:
        plain.unlink()
        subprocess.run(["setcap", "-r", str(tcplab)], capture_output=True)


def test_install_caps_kernel_states_needs_the_two_root_like_capabilities(prefix, loopback_server):
    # only once the kernel-states feature is built in (it reads tracefs)
    tcplab = prefix / "bin/tcplab"
    if "--kernel-states" not in help_options(tcplab, "connect"):
        pytest.skip("this build has no --kernel-states")
    try:
        # net caps only: the run goes on and says what is missing
        make("install-caps", "PREFIX=%s" % prefix)
        srv = loopback_server("echo")
        r = labmod.run([tcplab, "connect", "127.0.0.1", srv.port, "--kernel-states"],
                       user=NOBODY, cwd="/")
        assert r.returncode == 0, r
        assert "(kernel)" not in r.out and "CAP_SYS_ADMIN" in r.out + r.err, r
        # KERNEL_STATES=1: the kernel's own transitions of the server's socket
        make("install-caps", "PREFIX=%s" % prefix, "KERNEL_STATES=1")
        caps = labmod.run(["getcap", tcplab]).out
        for c in ("cap_net_raw", "cap_net_admin", "cap_sys_admin", "cap_dac_override"):
            assert c in caps, caps
        srv = loopback_server("echo")
        r = labmod.run([tcplab, "connect", "127.0.0.1", srv.port, "--kernel-states"],
                       user=NOBODY, cwd="/")
        assert r.returncode == 0, r
        assert re.search(r"server \(kernel\)\s+SYN-RECEIVED → ESTABLISHED", r.out), r
    finally:
        subprocess.run(["setcap", "-r", str(tcplab)], capture_output=True)


# -- completion ------------------------------------------------------------------

def bash_complete(prefix, words, cwd=None, ns=None):
    """What the installed bash completion offers for words (the last one is
    the word being completed), calling the function the script registers
    for tcplab as bash would."""
    prog = r'''
source "$1"; shift
spec=$(complete -p tcplab) || exit 3
fn=${spec#*-F }; fn=${fn%% *}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
"$fn" tcplab "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''
    env = dict(os.environ, PATH="%s/bin:/usr/sbin:/usr/bin:/sbin:/bin" % prefix)
    argv = ["bash", "--norc", "--noprofile", "-c", prog, "bash",
            str(prefix / "share/bash-completion/completions/tcplab")] + list(words)
    if ns is not None:
        argv = ["ip", "netns", "exec", ns] + argv
    r = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd or "/", timeout=30)
    assert r.returncode == 0, r
    return [w for w in r.stdout.split("\n") if w]


def test_bash_completes_subcommands(prefix):
    assert bash_complete(prefix, ["tcplab", "con"]) == ["connect"]
    assert set(bash_complete(prefix, ["tcplab", ""])) == help_commands(prefix / "bin/tcplab")


def test_bash_completes_demo_names(prefix):
    got = bash_complete(prefix, ["tcplab", "demo", ""])
    assert got and set(got) == demo_names(prefix), got
    assert bash_complete(prefix, ["tcplab", "demo", got[0], ""]) == []


def test_bash_completes_each_commands_options_as_its_help_lists_them(prefix):
    assert "--close" in bash_complete(prefix, ["tcplab", "connect", "--clo"])
    assert all(w.startswith("--clo") for w in bash_complete(prefix, ["tcplab", "connect", "--clo"]))
    for cmd in sorted(help_commands(prefix / "bin/tcplab") - {"demo", "cleanup"}):
        want = set(help_options(prefix / "bin/tcplab", cmd))
        got = set(bash_complete(prefix, ["tcplab", cmd, "-"]))
        assert want and got == want, (cmd, sorted(want - got), sorted(got - want))
    # commands outside the option table: the options their usage line names
    out = subprocess.run([prefix / "bin/tcplab", "--help"], capture_output=True, text=True).stdout
    for cmd in ("demo", "cleanup"):
        line = re.search(r"^  tcplab %s\b(.*)$" % cmd, out, re.M).group(1)
        synopsis = line.split("  ")[0]
        want = set(re.findall(r"--[a-z0-9][a-z0-9-]*", synopsis))
        assert set(bash_complete(prefix, ["tcplab", cmd, "-"])) == want, (cmd, synopsis)


def complete_options(tcplab, cmd):
    """{option: argument name} from the binary's --complete hook ("" when
    the option takes no argument)."""
    out = subprocess.run([tcplab, "--complete", "options", cmd], capture_output=True,
                         text=True).stdout
    return {f[0]: f[2] for f in (l.split("\t") for l in out.splitlines()) if len(f) >= 4}


def value_words(prefix, cmd, opt, arg):
    """What bash completion offers as OPT's value: after "OPT " for a
    required argument, after "OPT=" (split at '=' as bash does) for an
    optional one ("[=WHEN]")."""
    if arg.startswith("[="):
        return bash_complete(prefix, ["tcplab", cmd, opt, "=", ""])
    return bash_complete(prefix, ["tcplab", cmd, opt, ""])


def test_bash_completes_option_values_from_the_help_text(prefix):
    assert set(bash_complete(prefix, ["tcplab", "connect", "--close", ""])) == \
        {"client", "server", "rst", "none"}
    # as bash splits "--close=cl" at '='
    assert bash_complete(prefix, ["tcplab", "connect", "--close", "=", "cl"]) == ["client"]
    assert set(bash_complete(prefix, ["tcplab", "listen", "--close", "=", ""])) == \
        {"client", "server", "rst", "none"}
    # every option whose help lists its words as a|b|c gets exactly those
    checked = 0
    tcplab = prefix / "bin/tcplab"
    for cmd in sorted(help_commands(tcplab) - {"demo", "cleanup"}):
        helps = help_options(tcplab, cmd)
        for opt, arg in complete_options(tcplab, cmd).items():
            m = re.search(r"(?<![\w-])([\w-]+(?:\|[\w-]+)+)", helps.get(opt, ""))
            if not arg or not m:
                continue
            assert set(value_words(prefix, cmd, opt, arg)) == set(m.group(1).split("|")), \
                (cmd, opt)
            checked += 1
    assert checked >= 2


def test_bash_completes_the_words_of_close_lose_lang_color(prefix):
    # the options the course's users type values for: wherever one exists,
    # its words are offered, and the binary's parser accepts each of them
    tcplab = prefix / "bin/tcplab"
    seen = 0
    for cmd in sorted(help_commands(tcplab) - {"demo", "cleanup"}):
        opts = complete_options(tcplab, cmd)
        for opt in ("--close", "--lose", "--lang", "--color"):
            if not opts.get(opt):
                continue                 # absent, or a plain flag
            seen += 1
            words = value_words(prefix, cmd, opt, opts[opt])
            assert len(words) >= 2, "%s %s: no words to complete (its help should list " \
                "them as a|b|c)" % (cmd, opt)
            for w in words:
                given = ["%s=%s" % (opt, w)] if opts[opt].startswith("[=") else [opt, w]
                # no operands: a value the parser takes leads to the
                # operand check; a value it refuses is named
                r = subprocess.run([tcplab, cmd] + given, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=30)
                first = (r.stderr.splitlines() or [""])[0]
                assert opt not in first, (cmd, opt, w, first)
    assert seen >= 2


def test_bash_completes_interfaces_for_i(prefix, lab):
    # in the lab's client namespace, whose interfaces are known and stay
    # put (the root namespace's come and go as other tests run)
    got = bash_complete(prefix, ["tcplab", "watch", "-i", ""], ns=lab.client_ns)
    assert sorted(got) == sorted(["lo", lab.client_if]), got
    got = bash_complete(prefix, ["tcplab", "connect", "--interface", "tl"], ns=lab.client_ns)
    assert got == [lab.client_if], got
    assert "lo" in bash_complete(prefix, ["tcplab", "listen", "-i", "l"])


def test_bash_completes_capture_files_for_replay(prefix, tmp_path):
    for name in ("a.pcap", "b.pcapng", "c.pcap.gz", "notes.txt", "tcplab.c"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    got = set(bash_complete(prefix, ["tcplab", "replay", ""], cwd=tmp_path))
    assert got == {"a.pcap", "b.pcapng", "c.pcap.gz", "sub", "-"}, got
    got = set(bash_complete(prefix, ["tcplab", "replay", "--summary", "b"], cwd=tmp_path))
    assert got == {"b.pcapng"}, got
    # after the file come filter words: no files
    assert bash_complete(prefix, ["tcplab", "replay", "a.pcap", ""], cwd=tmp_path) == []


def zsh_complete(prefix, line, cwd="/"):
    """What the installed zsh completion offers for line."""
    env = dict(os.environ, PATH="%s/bin:/usr/sbin:/usr/bin:/sbin:/bin" % prefix)
    r = subprocess.run(["zsh", "-f", str(REPO / "tests/pkg/zsh-complete.zsh"),
                        str(prefix / "share/zsh/vendor-completions"), line],
                       capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    assert r.returncode == 0, r
    return [w for w in r.stdout.split("\n") if w]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_commands_options_values_demos(prefix, tmp_path):
    assert zsh_complete(prefix, "tcplab con") == ["connect"]
    assert "--close" in zsh_complete(prefix, "tcplab connect --clo")
    assert set(zsh_complete(prefix, "tcplab connect --close ")) == \
        {"client", "server", "rst", "none"}
    assert set(zsh_complete(prefix, "tcplab demo ")) == demo_names(prefix)
    assert "lo" in zsh_complete(prefix, "tcplab watch -i ")
    for name in ("a.pcap", "b.pcapng", "c.pcap.gz", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    got = set(zsh_complete(prefix, "tcplab replay ", cwd=tmp_path))
    assert {"a.pcap", "b.pcapng", "c.pcap.gz"} <= got and "notes.txt" not in got, got


def test_version_follows_the_changelog_after_a_build(tmp_path):
    # a copy of the built tree (timestamps kept); a new changelog entry must
    # reach --version and the manual at the next make, with no clean
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    log = tree / "debian/changelog"
    log.write_text("tcplab (9.8.7~test1) unstable; urgency=medium\n\n  * test\n\n"
                   " -- t <t@example.org>  Thu, 03 Dec 2026 00:00:00 +0000\n\n" + log.read_text())
    r = subprocess.run(["make", "-s", "-C", str(tree), "tcplab"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([tree / "tcplab", "--version"], capture_output=True, text=True).stdout
    assert out.splitlines()[0] == "tcplab version 9.8.7~test1", out
    r = subprocess.run(["make", "-s", "-C", str(tree), "install", "DESTDIR=%s" % (tmp_path / "d")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    man = (tmp_path / "d/usr/local/share/man/man1/tcplab.1").read_text().splitlines()[0]
    assert '"tcplab 9.8.7~test1"' in man, man


def test_debian_build_depends_cover_every_library_the_makefile_links():
    # the libraries the Makefile links (-lX), each traced to the -dev package
    # holding libX.so: each must be in debian/control's Build-Depends, so a
    # library added to the build cannot be forgotten in the package
    r = subprocess.run(["make", "-s", "-C", str(REPO), "--eval",
                        "print-libs: ; @echo $(PKG_LIBS)", "print-libs"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    libs = re.findall(r"(?:^|\s)-l(\S+)", r.stdout)
    assert "pcap" in libs and "net" in libs and "nftables" in libs, r.stdout
    control = (REPO / "debian/control").read_text()
    bdeps = re.search(r"^Build-Depends:(.*?)^\S", control, re.M | re.S).group(1)
    bdeps = {re.match(r"\s*([a-z0-9.+-]+)", d).group(1) for d in bdeps.split(",") if d.strip()}
    missing = []
    for lib in libs:
        so = subprocess.run(["cc", "-print-file-name=lib%s.so" % lib], capture_output=True,
                            text=True).stdout.strip()
        so = os.path.normpath(so)
        owner = subprocess.run(["dpkg", "-S", so], capture_output=True, text=True)
        assert owner.returncode == 0, (lib, so, owner.stderr)
        pkg = owner.stdout.split(":")[0]
        if pkg.startswith("libc6") or lib in ("pthread", "m", "dl", "rt"):
            continue                     # libc: build-essential, never listed
        # listed itself, or through a package that depends on it
        # (libpcap-dev -> libpcap0.8-dev)
        through = [b for b in bdeps if re.search(r"(^|[\s,|])%s([\s,(|]|$)" % re.escape(pkg),
                                                 subprocess.run(["dpkg-query", "-W", "-f=${Depends}", b],
                                                                capture_output=True, text=True).stdout)]
        if pkg not in bdeps and not through:
            missing.append("%s (-l%s)" % (pkg, lib))
    assert not missing, "debian/control Build-Depends lacks " + ", ".join(missing)
