"""test_lang.py — `--lang zh`, --explain and --header on a machine whose only
locale is C.UTF-8 (issue 12).

glibc's gettext translates nothing in the C locale, so tcplab carries its
catalog compiled in: these runs use `env -i LANG=C.UTF-8` (no LANGUAGE, no
LC_*), and one live `tcplab connect --explain --header --lang zh` in the
lab's namespaces against the kernel's TCP, checked segment by segment.
"""

import json
import os
import subprocess

import pytest

import lab as L

PORT = 7000
REPO = str(L.REPO_ROOT)


def run_env(tcplab_bin, env, *args):
    """Runs tcplab with exactly the environment `env` (env -i)."""
    argv = ["env", "-i"] + ["%s=%s" % kv for kv in env.items()] + [tcplab_bin] + list(args)
    return subprocess.run(argv, cwd=REPO, capture_output=True, timeout=60)


def test_only_c_utf8_is_installed():
    """The premise: no zh_CN locale exists here (otherwise this test proves less)."""
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    if any(l.lower().startswith("zh") for l in out):
        pytest.skip("a zh locale is installed on this machine: %r" % out)


def test_lang_zh_with_c_utf8(tcplab_bin):
    r = run_env(tcplab_bin, {"LANG": "C.UTF-8"}, "replay", "--lang", "zh", "--explain",
                "captures/tcplab-close-first.pcap")
    assert r.returncode == 0, r
    out = r.stdout.decode("utf-8")
    for word in ("第一次握手", "第二次握手", "第三次握手", "第一次挥手", "第二次挥手", "第三次挥手",
                 "第四次挥手", "连接 1 小结", "ESTABLISHED", "TIME-WAIT"):
        assert word in out, word
    assert "first handshake" not in out


def test_zh_locale_selects_chinese_even_when_not_generated(tcplab_bin):
    for env in ({"LANG": "zh_CN.UTF-8"}, {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "C.UTF-8"},
                {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}):
        r = run_env(tcplab_bin, env, "replay", "captures/refused.pcap")
        assert r.returncode == 0, (env, r)
        assert "连接被拒绝" in r.stdout.decode("utf-8"), env
    # LC_ALL wins over a Chinese LANG; --lang wins over everything
    r = run_env(tcplab_bin, {"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "replay", "captures/refused.pcap")
    assert "refused" in r.stdout.decode() and "拒绝" not in r.stdout.decode("utf-8")
    r = run_env(tcplab_bin, {"LANG": "zh_CN.UTF-8"}, "replay", "--lang", "en", "captures/refused.pcap")
    assert "拒绝" not in r.stdout.decode("utf-8")


def test_help_and_usage_errors_in_chinese(tcplab_bin):
    r = run_env(tcplab_bin, {"LANG": "C.UTF-8"}, "replay", "--lang", "zh", "--help")
    assert r.returncode == 0
    out = r.stdout.decode("utf-8")
    assert "用法：" in out and "选项：" in out and "--explain" in out
    r = run_env(tcplab_bin, {"LANG": "zh_CN.UTF-8"}, "connect", "--sport", "0", "198.18.0.2", "7")
    assert r.returncode == 2
    assert "--sport 的取值是 1 到 65535 之间的端口号" in r.stderr.decode("utf-8")
    assert r.stdout == b""


def test_json_keys_and_enums_do_not_change(tcplab_bin):
    outs = []
    for lang in ("en", "zh"):
        r = run_env(tcplab_bin, {"LANG": "C.UTF-8"}, "replay", "--json", "--explain", "--lang", lang,
                    "captures/tcplab-echo.pcap")
        assert r.returncode == 0
        outs.append([json.loads(l) for l in r.stdout.decode("utf-8").splitlines()])
    en, zh = outs
    assert len(en) == len(zh)
    for a, b in zip(en, zh):
        assert list(a) == list(b)                      # same keys, same order
        for k in ("event", "from", "to", "endpoint", "flags", "outcome", "seq", "ack"):
            assert a.get(k) == b.get(k), k
        if a["event"] == "segment":
            assert a["explain"]["step"] == b["explain"]["step"]
            assert a["explain"]["lines"] != b["explain"]["lines"]


def test_live_connect_explain_header_zh(lab, tcplab_bin):
    """A live run explains and lays open the segments it crafts and sniffs."""
    lab.start_server("echo", PORT)
    argv = [tcplab_bin, "connect", "--explain", "--header", "--lang", "zh", "--data", "hello",
            lab.server_ip, str(PORT)]
    r = L.run(["env", "-i", "LANG=C.UTF-8", "PATH=" + os.environ.get("PATH", "/usr/bin:/bin")] + argv,
              ns=lab.client_ns)
    assert r.returncode == 0, r
    out = r.stdout if isinstance(r.stdout, str) else r.stdout.decode("utf-8")
    for word in ("第一次握手", "第二次握手", "第三次握手", "第一次挥手", "TCP 首部", "源端口", "校验和"):
        assert word in out, (word, out)
    # the SYN-ACK came from the kernel over a veth: its checksum is verified
    assert "校验和            0x" in out
    assert "错误：应为" not in out, out


def test_live_listen_explain_json_zh(lab, tcplab_bin):
    """tcplab listen --json --explain --lang zh: every segment it crafts or
    sniffs carries an explanation with a stable step; the handshake and the
    teardown steps are all there, in Chinese; keys stay English."""
    from test_listen import Listener
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "1", "--explain", "--lang", "zh", "-x"], port=PORT)
    r, recs = lab.client(PORT, send="ping\n", extra=["--expect-echo"])
    assert recs[0]["connected"] and recs[0]["received"] == "ping\n", recs
    assert srv.wait() == 0, srv.stderr
    segs = srv.segments()
    assert segs and all("explain" in s and s["explain"]["lines"] for s in segs), segs
    steps = [s["explain"]["step"] for s in segs]
    for step in ("handshake-1", "handshake-2", "handshake-3", "wave-1"):
        assert step in steps, steps
    assert segs[0]["explain"]["lines"][0].startswith("第一次握手"), segs[0]
    # the kernel client's segments cross a veth: ok, or offloaded, never bad
    assert all(s["checksum"] in ("ok", "offloaded") for s in segs), [s["checksum"] for s in segs]
    for e in srv.lines:
        if e["event"] == "state":
            assert e["to"] in ("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
                               "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
                               "TIME-WAIT"), e


def test_live_sender_lines_in_chinese(lab, tcplab_bin):
    """The driven endpoint's own lines (congestion window and why, the peer's
    zero window, probes, the window update, the end-of-run counters) and the
    analysis marks and summary figures are Chinese under --lang zh, within
    100 columns (CJK characters two wide), for a 300 KB upload to a kernel
    server that reads slowly through a tiny buffer."""
    import hashlib
    import unicodedata
    data = os.urandom(300_000)
    path = lab.path("zh-upload", ".bin")
    with open(path, "wb") as f:
        f.write(data)
    srv = lab.start_server("sink", PORT, extra=["--rcvbuf", "2048", "--pause-ms", "1500"])
    r = L.run(["env", "-i", "LANG=C.UTF-8", "PATH=" + os.environ.get("PATH", "/usr/bin:/bin"),
               tcplab_bin, "connect", "--lang", "zh", "--data-file", path, lab.server_ip, str(PORT)],
              ns=lab.client_ns, timeout=120)
    assert r.returncode == 0, r
    recs = srv.wait_records(1, timeout=60)
    assert recs and recs[0]["sha256"] == hashlib.sha256(data).hexdigest(), recs
    out = r.stdout if isinstance(r.stdout, str) else r.stdout.decode("utf-8")
    if os.environ.get("TEST_LANG_DUMP"):
        print(out)
    for word in ("拥塞窗口 cwnd 14480", "慢启动", "暂停发送，等对方窗口打开", "零窗口探测", "继续发送：对方窗口为",
                 "发送方：", "有效吞吐量", "往返时间 最小"):
        assert word in out, (word, out[-3000:])
    for english in ("slow start", "zero window from the peer", "window update:", "sender:",
                    "goodput", "largest flight"):
        assert english not in out, (english, out[-3000:])

    def width(line):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    # the lines tcplab writes itself (not the options tcpdump-style, which have no words)
    wide = [l for l in out.splitlines() if width(l) > 100 and "[" not in l.strip()[:1]]
    assert not wide, wide
