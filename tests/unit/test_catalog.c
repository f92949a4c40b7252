/*
 * test_catalog.c — the message catalog, --explain, --header and the TCP
 * checksum (issue 12).
 *
 * The first test is the translators' gate: it fails when any catalog entry
 * has no Chinese translation, and runs tests/po/check.py (placeholders,
 * and every human-facing string in the sources present in the catalog).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/catalog_data.h"
#include "tcplab/textwidth.h"
#include "tcplab/analysis.h"
#include "tcplab/render.h"
#include "tcplab/catalog.h"
#include "tcplab/checksum.h"
#include "tcplab/decode.h"
#include "tcplab/event.h"
#include "tcplab/explain.h"
#include "tcplab/header_view.h"

/* ---- the catalog --------------------------------------------------------- */

static void every_entry_is_translated(void **state)
{
	unsigned missing = 0;

	(void)state;
	assert_true(catalog_entry_count > 300);
	for (unsigned i = 0; i < catalog_entry_count; i++) {
		const struct catalog_entry *e = &catalog_entries[i];

		if (e->zh == NULL || e->zh[0] == '\0') {
			fprintf(stderr, "no Chinese translation: [%s] %s\n", e->ctxt, e->id);
			missing++;
		}
		if (i > 0) {
			int c = strcmp(catalog_entries[i - 1].ctxt, e->ctxt);

			if (c == 0)
				c = strcmp(catalog_entries[i - 1].id, e->id);
			assert_true(c < 0);   /* sorted, no duplicates: bsearch relies on it */
		}
	}
	assert_int_equal(missing, 0);
}

static void sources_and_placeholders(void **state)
{
	(void)state;
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	assert_int_equal(system("python3 tests/po/check.py >/dev/null"), 0);
}

static void language_selection(void **state)
{
	enum cat_lang l = CAT_EN;

	(void)state;
	assert_int_equal(catalog_lang_parse("zh", &l), 0);
	assert_int_equal(l, CAT_ZH);
	assert_int_equal(catalog_lang_parse("en", &l), 0);
	assert_int_equal(l, CAT_EN);
	assert_int_equal(catalog_lang_parse("fr", &l), -1);
	assert_int_equal(catalog_lang_parse(NULL, &l), -1);

	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "zh_CN.UTF-8", 1);
	assert_int_equal(catalog_lang_from_env(), CAT_ZH);
	setenv("LC_MESSAGES", "en_US.UTF-8", 1);       /* LC_MESSAGES before LANG */
	assert_int_equal(catalog_lang_from_env(), CAT_EN);
	setenv("LC_ALL", "zh_TW.UTF-8", 1);            /* LC_ALL before both */
	assert_int_equal(catalog_lang_from_env(), CAT_ZH);
	setenv("LC_ALL", "", 1);                       /* empty counts as unset */
	assert_int_equal(catalog_lang_from_env(), CAT_EN);
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C.UTF-8", 1);
	assert_int_equal(catalog_lang_from_env(), CAT_EN);
	unsetenv("LANG");
	assert_int_equal(catalog_lang_from_env(), CAT_EN);
}

static void lookups(void **state)
{
	const char *reason = "received SYN: answer SYN-ACK";

	(void)state;
	catalog_set_lang(CAT_EN);
	assert_ptr_equal(catalog_tr(reason), reason);          /* English costs nothing */
	catalog_set_lang(CAT_ZH);
	assert_string_equal(catalog_tr(reason), "收到 SYN：回复 SYN-ACK");
	assert_string_equal(catalog_tr("no such sentence"), "no such sentence");
	assert_null(catalog_tr(NULL));
	/* text formatted from a c-format entry; the most specific format wins */
	assert_string_equal(catalog_tr("unknown option or missing argument: --bogus"),
			    "未知选项或缺少参数：--bogus");
	assert_string_equal(catalog_tr("unknown option -Q"), "未知选项 -Q");
	/* reordered and dropped arguments (%2$u, the English plural %s left out) */
	assert_string_equal(catalog_tr("2 of 5 offloaded (captured on the sending host)"),
			    "5 个中有 2 个是校验和卸载（在发送主机上捕获）");
	assert_string_equal(catalog_tr("removed 3 stale tcplab tables; kept 1 of running tcplab processes\n"),
			    "删除了 3 个遗留的 tcplab 表；保留了 1 个仍在运行的 tcplab 进程的表\n");
	/* an argument that is a catalog sentence is translated inside */
	assert_string_equal(catalog_tr("tcplab: skipped 2 packets not IP (first: packet 7, x)\n"),
			    "tcplab：跳过了 2 个数据包，原因：不是 IP 数据包（第一个：第 7 个包，x）\n");
	/* a one-word argument that is a catalog entry (a role name) is translated too */
	assert_string_equal(catalog_tr("kernel states agree for the server (5 transitions)"),
			    "服务器的内核状态与推断一致（5 次状态转换）");
	assert_string_equal(catalog_tr("kernel states disagree for the client at step 2: tcplab nothing more, "
				       "kernel FIN-WAIT-2 → TIME-WAIT (TCP_FIN_WAIT2 → TCP_TIME_WAIT)"),
			    "客户端的内核状态与推断在第 2 步不一致：tcplab 推断为 再无转换，内核为 FIN-WAIT-2 → "
			    "TIME-WAIT (TCP_FIN_WAIT2 → TCP_TIME_WAIT)");
	assert_string_equal(catalog_tr("one direction only: the capture holds only the client's segments; "
				       "the server's are inferred from what the client acknowledges"),
			    "只捕获到单方向：只有客户端的报文段，服务器的报文段由客户端的确认号推断得出");
	/* the driven endpoint's sender: the phase inside is a catalog entry */
	assert_string_equal(catalog_tr("cwnd 14480, ssthresh -  (slow start)"),
			    "拥塞窗口 cwnd 14480，慢启动门限 ssthresh -（慢启动）");
	assert_string_equal(catalog_tr("fast retransmit: seq 1449 after 3 dup ACKs; cwnd 7240, ssthresh 7240"),
			    "快速重传：收到 3 个重复确认，重传 seq 1449；拥塞窗口 cwnd 7240，慢启动门限 ssthresh 7240");
	/* summary figures (side_counters.h) and flight lines */
	assert_string_equal(catalog_tr("3 dup ACKs"), "重复确认 3 个");
	assert_string_equal(catalog_tr("1 zero window (200.0 ms at zero)"), "零窗口 1 次（共持续 200.0 ms）");
	assert_string_equal(catalog_tr("data seq 1..3001 (3000 bytes)"), "数据 seq 1..3001（3000 字节）");
	assert_string_equal(catalog_tr("2 ACKs back up to 3001"), "2 个 ACK，确认到 3001");
	/* text from a hostile capture cannot make the matching explode */
	{
		char *big = malloc(20001);

		assert_non_null(big);
		memset(big, ':', 20000);
		big[20000] = '\0';
		assert_ptr_equal(catalog_tr(big), big);
		free(big);
	}
	/* codes */
	assert_non_null(strstr(catalog_code("explain.handshake-2.what"), "第二次握手"));
	assert_non_null(strstr(catalog_code_lang(CAT_EN, "explain.handshake-2.what"), "second handshake"));
	assert_null(catalog_code("explain.no-such-step.what"));
	catalog_set_lang(CAT_EN);
}

static void formatting_and_width(void **state)
{
	char buf[64];
	const char *pairs[] = { "who", "客户端", "ack", "1001", NULL, NULL };

	(void)state;
	assert_int_equal(catalog_format(buf, sizeof(buf), "{who}: ack={ack} {unknown}", pairs),
			 strlen("客户端: ack=1001 {unknown}"));
	assert_string_equal(buf, "客户端: ack=1001 {unknown}");
	/* cut at the size, never inside a UTF-8 sequence */
	catalog_format(buf, 8, "{who}{who}", pairs);
	assert_string_equal(buf, "客户");
	/* what a translation takes on a terminal: textwidth.h (test_ladder) */
	assert_int_equal(tw_width("第一次握手"), 10);
}

/* ---- checksum ------------------------------------------------------------ */

/* A SYN from 198.18.0.1:40002 to 198.18.0.2:7000 with an MSS option, in an
 * IPv4 header; the TCP checksum is computed by the slow reference below. */
static uint8_t frame[20 + 24];

static uint16_t reference_sum(const uint8_t *tcp, size_t n)
{
	uint32_t sum = 0;
	uint8_t pseudo[12] = { 198, 18, 0, 1, 198, 18, 0, 2, 0, 6, 0, (uint8_t)n };

	for (size_t i = 0; i < 12; i += 2)
		sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)tcp[i] << 8 | (i + 1 < n ? tcp[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build_frame(void)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 44, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
					198, 18, 0, 1, 198, 18, 0, 2 };
	static const uint8_t tcp[24] = { 0x9c, 0x42, 0x1b, 0x58, 0, 0x1e, 0x84, 0x80, 0, 0, 0, 0,
					 0x60, 0x02, 0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 0x05, 0xb4 };
	uint16_t ck;

	memcpy(frame, ip, 20);
	memcpy(frame + 20, tcp, 24);
	ck = reference_sum(frame + 20, 24);
	frame[36] = (uint8_t)(ck >> 8);
	frame[37] = (uint8_t)ck;
}

static void checksum_verdicts(void **state)
{
	struct segment s;
	char eb[DECODE_ERRBUF_SIZE];
	uint8_t f[sizeof(frame)];
	uint16_t good;

	(void)state;
	build_frame();
	good = (uint16_t)(frame[36] << 8 | frame[37]);
	assert_int_equal(segment_decode(LINK_RAW, frame, sizeof(frame), sizeof(frame), 0, &s, eb), DECODE_OK);
	assert_int_equal(s.csum_status, TCP_CSUM_OK);
	assert_int_equal(s.ip_version, 4);
	assert_true(s.ip_df);
	assert_int_equal(s.ip_total_len, 44);
	assert_int_equal(s.ip_hdr_len, 20);
	assert_int_equal(s.tcp_hdr_len, 24);
	assert_ptr_equal(s.tcp_hdr, frame + 20);

	/* one flipped payload bit: bad, and the right value is the original */
	memcpy(f, frame, sizeof(f));
	f[23] ^= 0x01;
	assert_int_equal(segment_decode(LINK_RAW, f, sizeof(f), sizeof(f), 0, &s, eb), DECODE_OK);
	assert_int_equal(s.csum_status, TCP_CSUM_BAD);
	{
		uint8_t z[24];

		memcpy(z, f + 20, 24);
		z[16] = z[17] = 0;
		assert_int_equal(s.csum_expected, reference_sum(z, 24));
		assert_int_not_equal(s.csum_expected, good);
	}
	{
		/* the expected value makes the segment verify */
		f[36] = (uint8_t)(s.csum_expected >> 8);
		f[37] = (uint8_t)s.csum_expected;
		assert_int_equal(segment_decode(LINK_RAW, f, sizeof(f), sizeof(f), 0, &s, eb), DECODE_OK);
		assert_int_equal(s.csum_status, TCP_CSUM_OK);
	}

	/* checksum offload: the field holds the folded pseudo-header sum */
	memcpy(f, frame, sizeof(f));
	{
		uint16_t ps = checksum_fold(checksum_pseudo(&s.src, &s.dst, 24));

		f[36] = (uint8_t)(ps >> 8);
		f[37] = (uint8_t)ps;
	}
	assert_int_equal(segment_decode(LINK_RAW, f, sizeof(f), sizeof(f), 0, &s, eb), DECODE_OK);
	assert_int_equal(s.csum_status, TCP_CSUM_PARTIAL);

	/* options cut by the snapshot length: decoded as far as they go, not checked */
	assert_int_equal(segment_decode(LINK_RAW, frame, 42, sizeof(frame), 0, &s, eb), DECODE_OK);
	assert_int_equal(s.csum_status, TCP_CSUM_CUT);
	memcpy(f, frame, sizeof(f));
	f[3] = 48;   /* IP says 4 more bytes than were captured: payload cut */
	assert_int_equal(segment_decode(LINK_RAW, f, sizeof(f), 48, 0, &s, eb), DECODE_OK);
	assert_int_equal(s.csum_status, TCP_CSUM_CUT);
	assert_string_equal(checksum_status_name(TCP_CSUM_PARTIAL), "offloaded");
	(void)good;
}

/* ---- header view ----------------------------------------------------------- */

static void header_fields(void **state)
{
	struct segment s;
	char eb[DECODE_ERRBUF_SIZE];
	struct header_view hv;
	uint8_t f[sizeof(frame)];

	(void)state;
	build_frame();
	catalog_set_lang(CAT_EN);
	assert_int_equal(segment_decode(LINK_RAW, frame, sizeof(frame), sizeof(frame), 0, &s, eb), DECODE_OK);
	header_view_format(&s, -1, false, &hv);
	assert_int_equal(hv.n, 13);
	assert_string_equal(hv.lines[0], "IPv4  version 4  TTL 64  ID 0x1234  DF  header 20 bytes  total length 44");
	assert_string_equal(hv.lines[2], "source port       40002");
	assert_string_equal(hv.lines[6], "data offset       6 words = 24 bytes");
	assert_string_equal(hv.lines[8], "flags             CWR 0 ECE 0 URG 0 ACK 0 PSH 0 RST 0 SYN 1 FIN 0");
	assert_string_equal(hv.lines[9], "window            64240 (never scaled on a SYN)");
	assert_non_null(strstr(hv.lines[10], " ok"));
	assert_string_equal(hv.lines[12], "option            kind 2 maximum segment size, length 4: 1460");
	/* hex column and a wrong checksum */
	memcpy(f, frame, sizeof(f));
	f[37] ^= 0xff;
	assert_int_equal(segment_decode(LINK_RAW, f, sizeof(f), sizeof(f), 0, &s, eb), DECODE_OK);
	header_view_format(&s, -1, true, &hv);
	assert_non_null(strstr(hv.lines[10], "bad: should be 0x"));
	assert_non_null(strstr(hv.lines[2], "  9c 42"));
	/* Chinese labels keep the value column aligned by display width */
	catalog_set_lang(CAT_ZH);
	header_view_format(&s, -1, false, &hv);
	assert_string_equal(hv.lines[2], "源端口            40002");
	assert_int_equal(tw_width(hv.lines[2]) - 5, tw_width(hv.lines[3]) - 4);
	catalog_set_lang(CAT_EN);
}

/* ---- explain --------------------------------------------------------------- */

struct script {
	struct explainer *x;
	unsigned conn;
};

/* Feeds one segment event with the given transitions; returns the step. */
static const char *feed(struct script *sc, enum tl_role from, uint8_t flags, uint32_t seq, uint32_t ack,
			uint32_t len, enum tcp_state sf, enum tcp_state st, enum tcp_state rf, enum tcp_state rt,
			bool rexmit, struct explanation *out)
{
	struct segment s;
	struct tcp_transition ts, tr;
	struct tl_event ev;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.payload_len = len;
	s.window = 100;
	memset(&ts, 0, sizeof(ts));
	memset(&tr, 0, sizeof(tr));
	ts.from = sf, ts.to = st, ts.changed = sf != st, ts.retransmission = rexmit;
	tr.from = rf, tr.to = rt, tr.changed = rf != rt;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SEGMENT;
	ev.conn = sc->conn;
	ev.u.segment.from = from;
	ev.u.segment.seg = &s;
	ev.u.segment.retransmission = rexmit;
	ev.u.segment.sender_tx = &ts;
	ev.u.segment.receiver_tx = &tr;
	explain_event(sc->x, &ev, out);
	return out->step;
}

static void explain_steps(void **state)
{
	struct script sc = { explainer_new(), 1 };
	struct explanation e;
	const enum tl_role C = TL_CLIENT, S = TL_SERVER;

	(void)state;
	assert_non_null(sc.x);
	catalog_set_lang(CAT_EN);
	assert_string_equal(feed(&sc, C, TCP_FLAG_SYN, 1000, 0, 0, TCP_CLOSED, TCP_SYN_SENT, TCP_LISTEN,
				 TCP_LISTEN, false, &e), "handshake-1");
	assert_int_equal(e.nlines, 3);
	assert_non_null(strstr(e.lines[0], "first handshake"));
	assert_non_null(strstr(e.lines[2], "RFC 9293 §3.4.1"));
	assert_string_equal(feed(&sc, C, TCP_FLAG_SYN, 1000, 0, 0, TCP_SYN_SENT, TCP_SYN_SENT, TCP_LISTEN,
				 TCP_LISTEN, true, &e), "syn-retransmitted");
	catalog_set_lang(CAT_ZH);
	assert_string_equal(feed(&sc, S, TCP_FLAG_SYN | TCP_FLAG_ACK, 5000, 1001, 0, TCP_SYN_RECEIVED,
				 TCP_SYN_RECEIVED, TCP_SYN_SENT, TCP_ESTABLISHED, false, &e), "handshake-2");
	assert_non_null(strstr(e.lines[0], "第二次握手：服务器的 SYN-ACK，ack = 客户端 ISN + 1 = 1001"));
	assert_string_equal(feed(&sc, C, TCP_FLAG_ACK, 1001, 5001, 0, TCP_ESTABLISHED, TCP_ESTABLISHED,
				 TCP_SYN_RECEIVED, TCP_ESTABLISHED, false, &e), "handshake-3");
	assert_non_null(strstr(e.lines[0], "第三次握手"));
	catalog_set_lang(CAT_EN);
	assert_string_equal(feed(&sc, C, TCP_FLAG_ACK | TCP_FLAG_PSH, 1001, 5001, 10, TCP_ESTABLISHED,
				 TCP_ESTABLISHED, TCP_ESTABLISHED, TCP_ESTABLISHED, false, &e), "data");
	assert_non_null(strstr(e.lines[0], "ack = 1011"));
	/* the server has 10 bytes outstanding... the client repeats its ACK */
	assert_string_equal(feed(&sc, S, TCP_FLAG_ACK | TCP_FLAG_PSH, 5001, 1011, 20, TCP_ESTABLISHED,
				 TCP_ESTABLISHED, TCP_ESTABLISHED, TCP_ESTABLISHED, false, &e), "data");
	assert_string_equal(feed(&sc, C, TCP_FLAG_ACK, 1011, 5001, 0, TCP_ESTABLISHED, TCP_ESTABLISHED,
				 TCP_ESTABLISHED, TCP_ESTABLISHED, false, &e), "ack");
	assert_string_equal(feed(&sc, C, TCP_FLAG_ACK, 1011, 5001, 0, TCP_ESTABLISHED, TCP_ESTABLISHED,
				 TCP_ESTABLISHED, TCP_ESTABLISHED, false, &e), "dup-ack");
	assert_non_null(strstr(e.lines[0], "duplicate ACK #1"));
	/* four waves, then a three-segment close on another connection */
	assert_string_equal(feed(&sc, C, TCP_FLAG_FIN | TCP_FLAG_ACK, 1011, 5021, 0, TCP_ESTABLISHED,
				 TCP_FIN_WAIT_1, TCP_ESTABLISHED, TCP_CLOSE_WAIT, false, &e), "wave-1");
	assert_string_equal(feed(&sc, S, TCP_FLAG_ACK, 5021, 1012, 0, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT,
				 TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, false, &e), "wave-2");
	assert_string_equal(feed(&sc, S, TCP_FLAG_FIN | TCP_FLAG_ACK, 5021, 1012, 0, TCP_CLOSE_WAIT,
				 TCP_LAST_ACK, TCP_FIN_WAIT_2, TCP_TIME_WAIT, false, &e), "wave-3");
	assert_string_equal(feed(&sc, C, TCP_FLAG_ACK, 1012, 5022, 0, TCP_TIME_WAIT, TCP_TIME_WAIT,
				 TCP_LAST_ACK, TCP_CLOSED, false, &e), "wave-4");
	assert_non_null(strstr(e.lines[1], "Linux waits a fixed 60 s"));
	sc.conn = 2;
	assert_string_equal(feed(&sc, S, TCP_FLAG_FIN | TCP_FLAG_ACK, 1, 1, 0, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
				 TCP_ESTABLISHED, TCP_CLOSE_WAIT, false, &e), "wave-1");
	assert_string_equal(feed(&sc, C, TCP_FLAG_FIN | TCP_FLAG_ACK, 1, 2, 0, TCP_CLOSE_WAIT, TCP_LAST_ACK,
				 TCP_FIN_WAIT_1, TCP_TIME_WAIT, false, &e), "wave-2+3");
	/* two steps on one segment: the ACK (fifth check), then the FIN (eighth) */
	assert_non_null(strstr(e.lines[1], "the ACK (FIN-WAIT-1 → FIN-WAIT-2), then the FIN (→ TIME-WAIT)"));
	assert_non_null(strstr(e.lines[2], "fifth check (ACK field), then eighth check (FIN bit)"));
	sc.conn = 3;
	assert_string_equal(feed(&sc, C, TCP_FLAG_FIN | TCP_FLAG_ACK, 1, 1, 0, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
				 TCP_ESTABLISHED, TCP_CLOSE_WAIT, false, &e), "wave-1");
	assert_string_equal(feed(&sc, S, TCP_FLAG_FIN | TCP_FLAG_ACK, 1, 1, 0, TCP_CLOSE_WAIT, TCP_CLOSING,
				 TCP_FIN_WAIT_1, TCP_CLOSING, false, &e), "simultaneous-close");
	sc.conn = 4;
	assert_string_equal(feed(&sc, S, TCP_FLAG_RST | TCP_FLAG_ACK, 0, 1001, 0, TCP_CLOSED, TCP_CLOSED,
				 TCP_SYN_SENT, TCP_CLOSED, false, &e), "refused");
	assert_string_equal(feed(&sc, S, TCP_FLAG_RST, 0, 0, 0, TCP_ESTABLISHED, TCP_CLOSED, TCP_ESTABLISHED,
				 TCP_CLOSED, false, &e), "reset");
	assert_string_equal(feed(&sc, S, TCP_FLAG_ACK, 7, 7, 0, TCP_ESTABLISHED, TCP_ESTABLISHED,
				 TCP_ESTABLISHED, TCP_ESTABLISHED, false, &e), "ack");
	/* a summary forgets the connection; other events are only recorded */
	{
		struct tl_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.kind = TL_EV_SUMMARY;
		ev.conn = 4;
		assert_int_equal(explain_event(sc.x, &ev, &e), 0);
		assert_null(e.step);
	}
	explainer_free(sc.x);
	explainer_free(NULL);
}

/* ---- the text renderer in Chinese ------------------------------------------ */

/* The English words a Chinese line may keep: state, flag and option names,
 * units and the few abbreviations textbooks keep (RTT, RTO, MSS, SACK). */
static bool english_word_allowed(const char *w, size_t n)
{
	static const char *const ok[] = {
		"SYN", "ACK", "FIN", "RST", "PSH", "SYN-ACK", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
		"FIN-WAIT-", "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT", "CLOSED", "LISTEN", "CLOSING", "TCP_",
		"RTT", "RTO", "MSS", "SACK", "seq", "ack", "win", "len", "Mbit", "kbit", "Gbit", "bit",
		"ECN", "TCP", "µs", "ms", "cwnd", "ssthresh",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(w, ok[i], strlen(ok[i])) == 0 && n >= strlen(ok[i]) - (ok[i][strlen(ok[i]) - 1] == '-'))
			return true;
	return false;
}

/* Fails on a line wider than 100 columns or with an English word of three
 * letters or more that is not in english_word_allowed(). */
static void assert_chinese_lines(const char *text)
{
	char line[1024];

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		if (tw_width(line) > 100)
			fail_msg("wider than 100 columns: %s", line);
		for (const char *w = line; *w != '\0';) {
			size_t k = 0;

			while ((w[k] >= 'a' && w[k] <= 'z') || (w[k] >= 'A' && w[k] <= 'Z') || (k > 0 && (w[k] == '-' || w[k] == '_')))
				k++;
			if (k >= 3 && !english_word_allowed(w, k))
				fail_msg("English left in a Chinese line: %.*s in \"%s\"", (int)k, w, line);
			w += k > 0 ? k : 1;
		}
		p += n + (nl != NULL);
	}
}

static void text_in_chinese(void **state)
{
	struct render_options ro;
	struct renderer *r;
	struct tl_event ev;
	struct segment s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	catalog_set_lang(CAT_ZH);
	memset(&ro, 0, sizeof(ro));
	r = render_text_new(f, &ro);
	assert_non_null(r);
	/* a duplicate ACK that is also a window update, and a spurious RTO retransmission */
	memset(&s, 0, sizeof(s));
	s.flags = TCP_FLAG_ACK;
	s.window = 100;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SEGMENT;
	ev.conn = 1;
	ev.u.segment.seg = &s;
	ev.u.segment.marks = TL_MARK_DUP_ACK | TL_MARK_ZERO_WINDOW_PROBE;
	ev.u.segment.dup_ack = 3;
	render_emit(r, &ev);
	s.payload_len = 100;
	ev.u.segment.retransmission = true;
	ev.u.segment.marks = TL_MARK_RTO_RETRANS | TL_MARK_SPURIOUS;
	render_emit(r, &ev);
	/* the kernel's own state beside the inferred one */
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_KERNEL_STATE;
	ev.conn = 1;
	ev.u.kstate.endpoint = TL_SERVER;
	ev.u.kstate.from = TCP_SYN_RECEIVED;
	ev.u.kstate.to = TCP_ESTABLISHED;
	ev.u.kstate.kernel_from = "TCP_SYN_RECV";
	ev.u.kstate.kernel_to = "TCP_ESTABLISHED";
	render_emit(r, &ev);
	/* a summary with every figure */
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SUMMARY;
	ev.conn = 1;
	ev.u.summary.outcome = TL_OUTCOME_CLOSED;
	ev.u.summary.side[TL_CLIENT].bytes = 3000;
	ev.u.summary.side[TL_CLIENT].segments = 5;
	ev.u.summary.side[TL_CLIENT].retransmissions = 2;
	ev.u.summary.an[TL_CLIENT].retrans_rto = 1;
	ev.u.summary.an[TL_CLIENT].retrans_fast = 1;
	ev.u.summary.an[TL_CLIENT].retrans_spurious = 1;
	ev.u.summary.an[TL_CLIENT].goodput_known = true;
	ev.u.summary.an[TL_CLIENT].goodput_bps = 3600000;
	ev.u.summary.an[TL_CLIENT].rtt_samples = 3;
	ev.u.summary.an[TL_CLIENT].rtt_min_ns = 1000;
	ev.u.summary.an[TL_CLIENT].rtt_avg_ns = 2000000;
	ev.u.summary.an[TL_CLIENT].rtt_max_ns = 3000000000u;
	ev.u.summary.an[TL_CLIENT].flight_known = true;
	ev.u.summary.an[TL_CLIENT].max_flight = 1;
	ev.u.summary.an[TL_SERVER].rtt_samples = 1;
	ev.u.summary.an[TL_SERVER].dup_acks = 1;
	ev.u.summary.an[TL_SERVER].zero_windows = 2;
	ev.u.summary.an[TL_SERVER].zero_window_ns = 200000000;
	ev.u.summary.an[TL_SERVER].zero_window_probes = 3;
	ev.u.summary.an[TL_SERVER].window_updates = 1;
	ev.u.summary.an[TL_SERVER].out_of_order = 4;
	ev.u.summary.an[TL_SERVER].keep_alives = 5;
	render_emit(r, &ev);
	render_finish(r);
	render_destroy(r);
	fclose(f);
	catalog_set_lang(CAT_EN);
	if (getenv("TEST_CATALOG_DUMP") != NULL)
		fputs(buf, stderr);
	assert_non_null(strstr(buf, "[重复确认 #3，零窗口探测]"));
	assert_non_null(strstr(buf, "[超时重传，虚假重传]"));
	assert_non_null(strstr(buf, "服务器（内核）  SYN-RECEIVED → ESTABLISHED  （TCP_SYN_RECV → TCP_ESTABLISHED）"));
	assert_non_null(strstr(buf, "（超时 1 次、快速 1 次、其他 0 次；虚假重传 1 次）"));
	assert_non_null(strstr(buf, "有效吞吐量 3.6 Mbit/s"));
	assert_non_null(strstr(buf, "往返时间 最小 1.0 µs、平均 2.0 ms、最大 3.0 s（3 个样本）"));
	assert_non_null(strstr(buf, "最大在途数据量 1 字节"));
	assert_non_null(strstr(buf, "零窗口 2 次（共持续 200.0 ms）"));
	assert_non_null(strstr(buf, "保活探测 5 次"));
	assert_chinese_lines(buf);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_entry_is_translated),
		cmocka_unit_test(sources_and_placeholders),
		cmocka_unit_test(language_selection),
		cmocka_unit_test(lookups),
		cmocka_unit_test(formatting_and_width),
		cmocka_unit_test(checksum_verdicts),
		cmocka_unit_test(header_fields),
		cmocka_unit_test(explain_steps),
		cmocka_unit_test(text_in_chinese),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
