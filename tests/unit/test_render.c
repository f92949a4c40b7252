/*
 * test_render.c — the text and JSON Lines renderers, driven with hand-built
 * events into memory FILEs.
 *
 * The text checks compare whole lines, because golden tests and users'
 * eyes depend on the exact layout; the JSON checks parse every line with a
 * small validating parser (and with python3's json module when present),
 * then compare whole lines, because autograders depend on key order and
 * number formatting.  TEST_RENDER_DUMP=1 prints every rendered output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcplab/event.h"
#include "tcplab/render.h"
#include "tcplab/segment.h"
#include "tcplab/tcp_fsm.h"

/* ---- capture of a renderer's output ------------------------------------ */

struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

/* Closes the stream; c->buf then holds the NUL-terminated output. */
static void cap_close(struct capture *c, const char *label)
{
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
	if (getenv("TEST_RENDER_DUMP") != NULL)
		fprintf(stderr, "----- %s -----\n%s----- end -----\n", label, c->buf);
}

static void cap_free(struct capture *c)
{
	free(c->buf);
	c->buf = NULL;
}

/* True when `line` is one whole line of text (between newlines). */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

#define assert_line(text, line)                                                        \
	do {                                                                           \
		if (!has_line((text), (line)))                                         \
			fail_msg("missing line:\n[%s]\nin output:\n%s", (line), (text)); \
	} while (0)

#define assert_contains(text, sub)                                                     \
	do {                                                                           \
		if (strstr((text), (sub)) == NULL)                                     \
			fail_msg("missing [%s] in output:\n%s", (sub), (text));        \
	} while (0)

#define assert_not_contains(text, sub)                                                 \
	do {                                                                           \
		if (strstr((text), (sub)) != NULL)                                     \
			fail_msg("unexpected [%s] in output:\n%s", (sub), (text));     \
	} while (0)

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		if (*text == '\n')
			n++;
	return n;
}

/* Display columns of a UTF-8 line (one per code point), up to '\n'. */
static size_t line_columns(const char *p)
{
	size_t w = 0;

	for (; *p != '\0' && *p != '\n'; p++)
		if (((unsigned char)*p & 0xC0) != 0x80)
			w++;
	return w;
}

/* ---- a minimal validating JSON parser (RFC 8259) ------------------------ */

struct jp {
	const unsigned char *p, *end;
	int depth;
};

static int jp_value(struct jp *j);

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Checks one well-formed UTF-8 sequence (RFC 3629 §4), independent of src/. */
static int jp_utf8(struct jp *j)
{
	unsigned char c = *j->p;
	int n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF)
		n = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return -1;
	if (j->end - j->p <= n)
		return -1;
	if (j->p[1] < lo || j->p[1] > hi)
		return -1;
	for (int i = 2; i <= n; i++)
		if (j->p[i] < 0x80 || j->p[i] > 0xBF)
			return -1;
	j->p += n + 1;
	return 0;
}

static int jp_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;

		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return -1;
			c = *j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++)
					if (j->p >= j->end || !is_hex(*j->p++))
						return -1;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
				return -1;
			}
			continue;
		}
		if (c >= 0x80) {
			if (jp_utf8(j) != 0)
				return -1;
			continue;
		}
		j->p++;
	}
	return -1;
}

static int jp_number(struct jp *j)
{
	const unsigned char *start = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return -1;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return -1;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > start ? 0 : -1;
}

static int jp_container(struct jp *j, unsigned char open, unsigned char close)
{
	if (++j->depth > 32)
		return -1;
	j->p++; /* open */
	(void)open;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		jp_ws(j);
		if (close == '}') {
			if (jp_string(j) != 0)
				return -1;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -1;
			j->p++;
			jp_ws(j);
		}
		if (jp_value(j) != 0)
			return -1;
		jp_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		return -1;
	}
}

static int jp_value(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{':
		return jp_container(j, '{', '}');
	case '[':
		return jp_container(j, '[', ']');
	case '"':
		return jp_string(j);
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	case 'n':
		return jp_lit(j, "null");
	default:
		return jp_number(j);
	}
}

/* 0 when [s, s+n) is exactly one JSON object. */
static int json_object_valid(const char *s, size_t n)
{
	struct jp j = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	jp_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -1;
	if (jp_value(&j) != 0)
		return -1;
	jp_ws(&j);
	return j.p == j.end ? 0 : -1;
}

/* Every line of text is one valid JSON object; returns the number of lines. */
static size_t assert_json_lines(const char *text)
{
	size_t n = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
			fail_msg("JSON output does not end with a newline:\n%s", p);
		if (json_object_valid(p, (size_t)(nl - p)) != 0)
			fail_msg("invalid JSON line:\n%.*s", (int)(nl - p), p);
		n++;
		p = nl + 1;
	}
	return n;
}

/* Second opinion: python3's json module, strict UTF-8, when python3 exists. */
static void assert_python_json(const char *text)
{
	FILE *py;
	int status;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return;
	py = popen("python3 -c 'import json,sys\n"
		   "data = sys.stdin.buffer.read().decode(\"utf-8\", \"strict\")\n"
		   "lines = data.split(\"\\n\")\n"
		   "assert lines[-1] == \"\"\n"
		   "for l in lines[:-1]:\n"
		   "    o = json.loads(l)\n"
		   "    assert isinstance(o, dict) and \"event\" in o\n"
		   "'",
		   "w");
	assert_non_null(py);
	fputs(text, py);
	status = pclose(py);
	assert_int_equal(status, 0);
}

/* ---- event builders ---------------------------------------------------- */

static const uint64_t START_NS = 1714564800123456789ull; /* 2024-05-01T12:00:00.123456789Z */

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

static struct tl_conn_begin conn_v4(void)
{
	struct tl_conn_begin c;

	memset(&c, 0, sizeof(c));
	c.client_addr = v4(198, 18, 0, 1);
	c.server_addr = v4(198, 18, 0, 2);
	c.client_port = 43512;
	c.server_port = 8080;
	c.start_ns = START_NS;
	return c;
}

static void emit_begin(struct renderer *r, unsigned conn, const struct tl_conn_begin *c)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_CONN_BEGIN;
	ev.conn = conn;
	ev.t_ns = 0;
	ev.conn_info = c;
	ev.u.begin = *c;
	render_emit(r, &ev);
}

static struct segment mkseg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.window = win;
	return s;
}

static void emit_seg(struct renderer *r, unsigned conn, const struct tl_conn_begin *c,
		     uint64_t t_ns, enum tl_role from, const struct segment *s, bool rel_known,
		     uint32_t rel_seq, uint32_t rel_ack, bool retrans, const char *annotation)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SEGMENT;
	ev.conn = conn;
	ev.t_ns = t_ns;
	ev.conn_info = c;
	ev.u.segment.from = from;
	ev.u.segment.seg = s;
	ev.u.segment.rel_seq_known = rel_known;
	ev.u.segment.rel_ack_known = rel_known;
	ev.u.segment.rel_seq = rel_seq;
	ev.u.segment.rel_ack = rel_ack;
	ev.u.segment.retransmission = retrans;
	ev.u.segment.annotation = annotation;
	render_emit(r, &ev);
}

static void emit_state(struct renderer *r, unsigned conn, const struct tl_conn_begin *c,
		       uint64_t t_ns, enum tl_role who, enum tcp_state from, enum tcp_state to,
		       const char *reason)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_STATE;
	ev.conn = conn;
	ev.t_ns = t_ns;
	ev.conn_info = c;
	ev.u.state.endpoint = who;
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.reason = reason;
	render_emit(r, &ev);
}

static void emit_note(struct renderer *r, unsigned conn, const struct tl_conn_begin *c,
		      uint64_t t_ns, const char *text)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_NOTE;
	ev.conn = conn;
	ev.t_ns = t_ns;
	ev.conn_info = c;
	ev.u.note = text;
	render_emit(r, &ev);
}

static struct tcp_options syn_opts(uint32_t ts_val, uint32_t ts_ecr)
{
	struct tcp_options o;

	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = 1460;
	o.has_sack_perm = true;
	o.has_timestamps = true;
	o.ts_val = ts_val;
	o.ts_ecr = ts_ecr;
	o.nop_count = 1;
	o.has_wscale = true;
	o.wscale = 7;
	return o;
}

/* The summary of the scenario below. */
static struct tl_summary full_summary(void)
{
	struct tl_summary sm;

	memset(&sm, 0, sizeof(sm));
	sm.outcome = TL_OUTCOME_CLOSED;
	sm.ended_how = "client closed first; four-segment teardown";
	sm.start_ns = START_NS;
	sm.duration_ns = 512345;
	sm.rtt_known = true;
	sm.rtt_ns = 21000;
	sm.reaction_known = true;
	sm.reaction_ns = 19049;
	sm.side[TL_CLIENT].bytes = 6;
	sm.side[TL_CLIENT].segments = 5;
	sm.side[TL_CLIENT].retransmissions = 0;
	sm.side[TL_CLIENT].final_state = TCP_TIME_WAIT;
	sm.side[TL_CLIENT].isn_known = true;
	sm.side[TL_CLIENT].isn = 2882756817u;
	sm.side[TL_CLIENT].syn_options = syn_opts(1, 0);
	sm.side[TL_CLIENT].syn_seen = true;
	sm.side[TL_SERVER].bytes = 0;
	sm.side[TL_SERVER].segments = 4;
	sm.side[TL_SERVER].retransmissions = 1;
	sm.side[TL_SERVER].final_state = TCP_CLOSED;
	sm.side[TL_SERVER].isn_known = true;
	sm.side[TL_SERVER].isn = 1004003002u;
	sm.side[TL_SERVER].syn_options = syn_opts(2, 1);
	sm.side[TL_SERVER].syn_seen = true;
	sm.wscale_ok = sm.sack_ok = sm.timestamps_ok = true;
	return sm;
}

static void emit_summary(struct renderer *r, unsigned conn, const struct tl_conn_begin *c,
			 uint64_t t_ns, const struct tl_summary *sm)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SUMMARY;
	ev.conn = conn;
	ev.t_ns = t_ns;
	ev.conn_info = c;
	ev.u.summary = *sm;
	render_emit(r, &ev);
}

#define CISN 2882756817u
#define SISN 1004003002u

/*
 * A whole connection: handshake, "hello\n" from the client, the server's
 * ACK, a four-segment teardown started by the client, a TIME-WAIT note,
 * the summary.  Every event the tracker would send, in its order.
 */
static void emit_scenario(struct renderer *r, unsigned conn, const struct tl_conn_begin *c,
			  bool rel_known)
{
	static const uint8_t hello[] = "hello\n";
	struct segment s;
	struct tl_summary sm = full_summary();

	emit_begin(r, conn, c);

	s = mkseg(TCP_FLAG_SYN, CISN, 0, 64240);
	s.opt = syn_opts(1, 0);
	emit_seg(r, conn, c, 0, TL_CLIENT, &s, rel_known, 0, 0, false, NULL);
	emit_state(r, conn, c, 0, TL_CLIENT, TCP_CLOSED, TCP_SYN_SENT, "sent SYN: active open");
	emit_state(r, conn, c, 0, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, "received SYN");

	s = mkseg(TCP_FLAG_SYN | TCP_FLAG_ACK, SISN, CISN + 1, 65160);
	s.opt = syn_opts(2, 1);
	emit_seg(r, conn, c, 21000, TL_SERVER, &s, rel_known, 0, 1, false, NULL);
	emit_state(r, conn, c, 21000, TL_CLIENT, TCP_SYN_SENT, TCP_ESTABLISHED,
		   "received SYN-ACK acknowledging our SYN");

	s = mkseg(TCP_FLAG_ACK, CISN + 1, SISN + 1, 502);
	s.opt.nop_count = 2;
	s.opt.has_timestamps = true;
	s.opt.ts_val = 3;
	s.opt.ts_ecr = 2;
	emit_seg(r, conn, c, 40049, TL_CLIENT, &s, rel_known, 1, 1, false, NULL);
	emit_state(r, conn, c, 40049, TL_SERVER, TCP_SYN_RECEIVED, TCP_ESTABLISHED,
		   "received ACK of our SYN");

	s = mkseg(TCP_FLAG_PSH | TCP_FLAG_ACK, CISN + 1, SISN + 1, 502);
	s.payload = hello;
	s.payload_len = 6;
	s.payload_captured = 6;
	emit_seg(r, conn, c, 100000, TL_CLIENT, &s, rel_known, 1, 1, false, NULL);

	s = mkseg(TCP_FLAG_ACK, SISN + 1, CISN + 7, 509);
	emit_seg(r, conn, c, 120000, TL_SERVER, &s, rel_known, 1, 7, false, NULL);

	s = mkseg(TCP_FLAG_FIN | TCP_FLAG_ACK, CISN + 7, SISN + 1, 502);
	emit_seg(r, conn, c, 200000, TL_CLIENT, &s, rel_known, 7, 1, false, NULL);
	emit_state(r, conn, c, 200000, TL_CLIENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, "sent FIN");
	emit_state(r, conn, c, 200000, TL_SERVER, TCP_ESTABLISHED, TCP_CLOSE_WAIT, "received FIN");

	s = mkseg(TCP_FLAG_ACK, SISN + 1, CISN + 8, 509);
	emit_seg(r, conn, c, 210000, TL_SERVER, &s, rel_known, 1, 8, false, NULL);
	emit_state(r, conn, c, 210000, TL_CLIENT, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2,
		   "received ACK of our FIN");

	s = mkseg(TCP_FLAG_FIN | TCP_FLAG_ACK, SISN + 1, CISN + 8, 509);
	emit_seg(r, conn, c, 300000, TL_SERVER, &s, rel_known, 1, 8, false, NULL);
	emit_state(r, conn, c, 300000, TL_SERVER, TCP_CLOSE_WAIT, TCP_LAST_ACK, "sent FIN");
	emit_state(r, conn, c, 300000, TL_CLIENT, TCP_FIN_WAIT_2, TCP_TIME_WAIT, "received FIN");

	/* The server's FIN again: the first one's ACK was lost. */
	emit_seg(r, conn, c, 400000, TL_SERVER, &s, rel_known, 1, 8, true,
		 "FIN retransmitted (RTO 200 ms)");

	s = mkseg(TCP_FLAG_ACK, CISN + 8, SISN + 2, 502);
	emit_seg(r, conn, c, 512345, TL_CLIENT, &s, rel_known, 8, 2, false, NULL);
	emit_state(r, conn, c, 512345, TL_SERVER, TCP_LAST_ACK, TCP_CLOSED, "received ACK of our FIN");
	emit_note(r, conn, c, 60512345, "TIME-WAIT over after 2MSL (shortened to 60 ms)");
	emit_state(r, conn, c, 60512345, TL_CLIENT, TCP_TIME_WAIT, TCP_CLOSED, "2MSL timer expired");

	emit_summary(r, conn, c, 60512345, &sm);
}

/* Renders the scenario with `opt` through a text or JSON renderer. */
static void render_scenario(struct capture *cap, bool json, const struct render_options *opt,
			    bool rel_known, const char *label)
{
	struct tl_conn_begin c = conn_v4();
	struct renderer *r;

	cap_open(cap);
	r = json ? render_json_new(cap->f, opt) : render_text_new(cap->f, opt);
	assert_non_null(r);
	emit_scenario(r, 1, &c, rel_known);
	render_finish(r);
	render_destroy(r);
	cap_close(cap, label);
}

/* ---- text ---------------------------------------------------------------- */

static void test_text_handshake_teardown(void **state)
{
	struct capture cap;
	struct render_options opt = { 0 };
	(void)state;

	render_scenario(&cap, false, &opt, true, "text full");
	const char *t = cap.buf;

	assert_line(t, "conn 1: client 198.18.0.1:43512 → server 198.18.0.2:8080");
	assert_line(t, "  0.000000  C → S  SYN      seq=2882756817 (0)                            win=64240 len=0");
	assert_line(t, "                            [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]");
	assert_line(t, "            client  CLOSED → SYN-SENT        (sent SYN: active open)");
	assert_line(t, "            server  LISTEN → SYN-RECEIVED    (received SYN)");
	assert_line(t, "  0.000021  C ← S  SYN,ACK  seq=1004003002 (0)     ack=2882756818 (1)     win=65160 len=0");
	assert_line(t, "            client  SYN-SENT → ESTABLISHED   (received SYN-ACK acknowledging our SYN)");
	assert_line(t, "  0.000040  C → S  ACK      seq=2882756818 (1)     ack=1004003003 (1)     win=502 len=0");
	assert_line(t, "                            [nop,nop,TS val 3 ecr 2]");
	assert_line(t, "  0.000100  C → S  PSH,ACK  seq=2882756818 (1)     ack=1004003003 (1)     win=502 len=6  \"hello\\n\"");
	assert_line(t, "  0.000200  C → S  FIN,ACK  seq=2882756824 (7)     ack=1004003003 (1)     win=502 len=0");
	assert_line(t, "            client  ESTABLISHED → FIN-WAIT-1  (sent FIN)");
	assert_line(t, "  0.000400  C ← S  FIN,ACK  seq=1004003003 (1)     ack=2882756825 (8)     win=509 len=0");
	assert_line(t, "                            [retransmission]  — FIN retransmitted (RTO 200 ms)");
	/* A timer event shows its own time; the state change it causes does not repeat it. */
	assert_line(t, "  0.060512  note: TIME-WAIT over after 2MSL (shortened to 60 ms)");
	assert_line(t, "            client  TIME-WAIT → CLOSED       (2MSL timer expired)");

	/* The summary block. */
	assert_line(t, "conn 1 summary: closed — client closed first; four-segment teardown");
	assert_line(t, "  handshake        RTT 21.0 µs (SYN → SYN-ACK), reaction 19.0 µs (SYN-ACK → ACK)");
	assert_line(t, "  client → server  6 bytes, 5 segments, 0 retransmissions");
	assert_line(t, "  server → client  0 bytes, 4 segments, 1 retransmission");
	assert_line(t, "  final states     client TIME-WAIT, server CLOSED");
	assert_line(t, "  initial seq      client 2882756817, server 1004003002");
	assert_line(t, "  MSS              client 1460, server 1460");
	assert_line(t, "  window scale     client 7, server 7");
	assert_line(t, "  SACK             negotiated");
	assert_line(t, "  timestamps       negotiated");
	assert_line(t, "  started          2024-05-01T12:00:00.123457Z");
	assert_line(t, "  duration         0.000512 s");
	assert_not_contains(t, "mid-stream");
	/* A blank line separates the trace from the summary block, nothing else. */
	assert_contains(t, "(2MSL timer expired)\n\nconn 1 summary:");
	assert_not_contains(t, "\033");

	/* Every line of the trace itself fits in 100 columns. */
	for (const char *p = t; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (line_columns(p) > 100)
			fail_msg("line wider than 100 columns: %.*s", (int)line_columns(p), p);
	}
	cap_free(&cap);
}

static void test_text_payload_escapes(void **state)
{
	static const uint8_t bin[] = { 'G', 'E', 'T', ' ', '"', '/', '\\', '"', '\r', '\n', 0x00, 0x01,
				       0x7f, 0x80, 0xff, '\t', 'z' };
	static const uint8_t long_text[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct renderer *r;
	struct segment s;
	(void)state;

	cap_open(&cap);
	/* verbose: every segment on its own line (not one collapsed flight) */
	r = render_text_new(cap.f, &(struct render_options){ .verbose = true });
	assert_non_null(r);
	emit_begin(r, 1, &c);

	s = mkseg(TCP_FLAG_PSH | TCP_FLAG_ACK, 1, 1, 100);
	s.payload = bin;
	s.payload_len = sizeof(bin);
	s.payload_captured = sizeof(bin);
	emit_seg(r, 1, &c, 1000, TL_CLIENT, &s, true, 1, 1, false, NULL);

	/* Longer than the preview: cut at 40 columns, "…" after the quote. */
	s.payload = long_text;
	s.payload_len = sizeof(long_text) - 1;
	s.payload_captured = sizeof(long_text) - 1;
	emit_seg(r, 1, &c, 2000, TL_CLIENT, &s, true, 18, 1, false, NULL);

	/* Snapped capture: 3 of 1000 bytes were captured. */
	s.payload_len = 1000;
	s.payload_captured = 3;
	emit_seg(r, 1, &c, 3000, TL_CLIENT, &s, true, 64, 1, false, NULL);

	/* Nothing captured: no preview at all. */
	s.payload_captured = 0;
	emit_seg(r, 1, &c, 4000, TL_CLIENT, &s, true, 1064, 1, false, NULL);

	/* An escape that would cross the 40-column limit is not split. */
	{
		uint8_t edge[40];

		memset(edge, 'a', sizeof(edge));
		edge[38] = 0x01; /* \x01 needs columns 39..42 */
		s.payload = edge;
		s.payload_len = sizeof(edge);
		s.payload_captured = sizeof(edge);
		emit_seg(r, 1, &c, 5000, TL_CLIENT, &s, true, 2064, 1, false, NULL);
	}
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text payload");

	assert_line(cap.buf, "  0.000001  C → S  PSH,ACK  seq=1 (1)              ack=1 (1)              win=100 len=17");
	assert_line(cap.buf, "                            \"GET \\\"/\\\\\\\"\\r\\n\\x00\\x01\\x7f\\x80\\xff\\tz\"");
	assert_line(cap.buf, "                            \"0123456789abcdefghijklmnopqrstuvwxyzABCD\"…");
	assert_contains(cap.buf, "len=1000  \"012\"…\n");
	assert_contains(cap.buf, "len=1000\n");
	assert_line(cap.buf, "                            \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"…");
	cap_free(&cap);
}

static void test_text_ipv6_midstream(void **state)
{
	struct tl_conn_begin c;
	struct capture cap;
	struct renderer *r;
	struct segment s;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ip_addr_parse("2001:db8::1", &c.client_addr), 0);
	assert_int_equal(ip_addr_parse("::1", &c.server_addr), 0);
	c.client_port = 55000;
	c.server_port = 80;
	c.midstream = true;
	c.start_ns = START_NS;

	cap_open(&cap);
	r = render_text_new(cap.f, NULL);
	emit_begin(r, 3, &c);
	/* Joined mid-stream: relative numbers unknown, only absolute ones printed. */
	s = mkseg(TCP_FLAG_ACK, 123456789, 987654321, 1024);
	emit_seg(r, 3, &c, 1500000000, TL_SERVER, &s, false, 0, 0, false, NULL);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text ipv6");

	assert_line(cap.buf, "conn 3: client [2001:db8::1]:55000 → server [::1]:80  (joined mid-stream: roles guessed from ports)");
	assert_line(cap.buf, "  1.500000  C ← S  ACK      seq=123456789          ack=987654321          win=1024 len=0");
	cap_free(&cap);
}

static void test_text_absolute_only(void **state)
{
	struct capture cap;
	struct render_options opt = { .absolute_only = true };
	(void)state;

	render_scenario(&cap, false, &opt, true, "text absolute");
	assert_line(cap.buf, "  0.000000  C → S  SYN      seq=2882756817                  win=64240 len=0");
	assert_line(cap.buf, "                            [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]");
	assert_line(cap.buf, "  0.000040  C → S  ACK      seq=2882756818  ack=1004003003  win=502 len=0  [nop,nop,TS val 3 ecr 2]");
	assert_line(cap.buf, "  0.000400  C ← S  FIN,ACK  seq=1004003003  ack=2882756825  win=509 len=0  [retransmission]");
	assert_not_contains(cap.buf, " (0)");
	assert_not_contains(cap.buf, " (1)");
	cap_free(&cap);
}

static void test_text_show_conn(void **state)
{
	struct capture cap;
	struct render_options opt = { .show_conn = true };
	struct tl_conn_begin c = conn_v4();
	struct renderer *r;
	(void)state;

	cap_open(&cap);
	r = render_text_new(cap.f, &opt);
	emit_scenario(r, 1, &c, true);
	emit_note(r, 0, NULL, 99000000000ull, "capture ended");
	emit_begin(r, 12345, &c);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text show_conn");

	/* Every non-blank line carries the prefix. */
	for (const char *p = cap.buf; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (*p != '\n' && *p != '[')
			fail_msg("line without [conn] prefix: %.*s", (int)(strchr(p, '\n') - p), p);
	}
	assert_line(cap.buf, "[1]   conn 1: client 198.18.0.1:43512 → server 198.18.0.2:8080");
	assert_line(cap.buf, "[1]     0.000000  C → S  SYN      seq=2882756817 (0)                            win=64240 len=0");
	assert_line(cap.buf, "[1]                               [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]");
	assert_line(cap.buf, "[1]               client  CLOSED → SYN-SENT        (sent SYN: active open)");
	assert_line(cap.buf, "[1]   conn 1 summary: closed — client closed first; four-segment teardown");
	assert_line(cap.buf, "[1]     duration         0.000512 s");
	assert_line(cap.buf, "[-]    99.000000  note: capture ended");
	assert_line(cap.buf, "[12345] conn 12345: client 198.18.0.1:43512 → server 198.18.0.2:8080");
	cap_free(&cap);
}

static void test_text_summary_only(void **state)
{
	struct capture cap;
	struct render_options opt = { .summary_only = true, .show_conn = true };
	struct tl_conn_begin c = conn_v4();
	struct tl_summary sm;
	struct renderer *r;
	(void)state;

	cap_open(&cap);
	r = render_text_new(cap.f, &opt);
	emit_scenario(r, 1, &c, true);

	/* A refused connection: RTT known, no reaction, the server's SYN never seen. */
	memset(&sm, 0, sizeof(sm));
	sm.outcome = TL_OUTCOME_REFUSED;
	sm.ended_how = "RST in answer to SYN";
	sm.start_ns = 1000000000ull;
	sm.duration_ns = 2500000;
	sm.rtt_known = true;
	sm.rtt_ns = 2500000;
	sm.side[TL_CLIENT].final_state = TCP_CLOSED;
	sm.side[TL_CLIENT].syn_seen = true;
	sm.side[TL_CLIENT].syn_options.has_mss = true;
	sm.side[TL_CLIENT].syn_options.mss = 536;
	sm.side[TL_CLIENT].segments = 1;
	sm.side[TL_SERVER].final_state = TCP_CLOSED;
	emit_summary(r, 2, NULL, 5, &sm);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text summary_only");

	assert_int_equal(count_lines(cap.buf), 2);
	assert_line(cap.buf, "conn 1  198.18.0.1:43512 → 198.18.0.2:8080  2024-05-01T12:00:00.123457Z  rtt 21.0µs + 19.0µs  mss 1460/1460 ws 7/7 sack yes ts yes  bytes →6 ←0  dur 0.000512 s  closed  states TIME-WAIT/CLOSED  gp →- ←-  retx →0/0/0 ←0/0/0");
	assert_line(cap.buf, "conn 2  ? → ?  1970-01-01T00:00:01.000000Z  rtt 2.5ms + ?  mss 536/? ws -/? sack no ts no  bytes →0 ←0  dur 0.002500 s  refused  states CLOSED/CLOSED  gp →- ←-  retx →0/0/0 ←0/0/0");
	cap_free(&cap);
}

static void test_text_summary_unknown(void **state)
{
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct tl_summary sm;
	struct renderer *r;
	(void)state;

	memset(&sm, 0, sizeof(sm));
	sm.outcome = TL_OUTCOME_OPEN;
	sm.ended_how = NULL;
	sm.start_ns = START_NS;
	sm.duration_ns = 3600000000000ull;
	sm.midstream = true;
	sm.side[TL_CLIENT].final_state = TCP_ESTABLISHED;
	sm.side[TL_SERVER].final_state = TCP_ESTABLISHED;
	/* Only the client's SYN seen, offering everything. */
	sm.side[TL_CLIENT].syn_seen = true;
	sm.side[TL_CLIENT].syn_options = syn_opts(5, 0);
	sm.side[TL_CLIENT].bytes = 1;
	sm.side[TL_CLIENT].segments = 1;
	sm.side[TL_CLIENT].retransmissions = 1;

	cap_open(&cap);
	r = render_text_new(cap.f, NULL);
	emit_summary(r, 7, &c, 0, &sm);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text summary unknown");

	/* First output: no blank line before the block. */
	assert_true(strncmp(cap.buf, "conn 7 summary: open\n", 21) == 0);
	assert_line(cap.buf, "  handshake        RTT unknown, reaction unknown");
	assert_line(cap.buf, "  client → server  1 byte, 1 segment, 1 retransmission");
	assert_line(cap.buf, "  final states     client ESTABLISHED, server ESTABLISHED");
	assert_line(cap.buf, "  initial seq      client unknown, server unknown");
	assert_line(cap.buf, "  MSS              client 1460, server not seen");
	assert_line(cap.buf, "  window scale     not negotiated (no SYN-ACK seen from the server)");
	assert_line(cap.buf, "  SACK             not negotiated (no SYN-ACK seen from the server)");
	assert_line(cap.buf, "  duration         3600.000000 s");
	assert_line(cap.buf, "  mid-stream       the handshake is not in the capture; roles guessed from ports");
	cap_free(&cap);
}

static void test_text_durations(void **state)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{ 0, "rtt 0.0µs" },           { 49, "rtt 0.0µs" },
		{ 50, "rtt 0.1µs" },          { 999949, "rtt 999.9µs" },
		{ 999950, "rtt 1.0ms" },      { 12345678, "rtt 12.3ms" },
		{ 999949999, "rtt 999.9ms" }, { 999950000, "rtt 1.0s" },
		{ 3000000000ull, "rtt 3.0s" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct render_options opt = { .summary_only = true };
		struct tl_summary sm;
		struct capture cap;
		struct renderer *r;

		memset(&sm, 0, sizeof(sm));
		sm.rtt_known = true;
		sm.rtt_ns = cases[i].ns;
		cap_open(&cap);
		r = render_text_new(cap.f, &opt);
		emit_summary(r, 1, NULL, 0, &sm);
		render_destroy(r); /* destroy without finish: nothing is lost, nothing leaks */
		cap_close(&cap, "durations");
		assert_contains(cap.buf, cases[i].text);
		cap_free(&cap);
	}
}

static void test_text_options_and_flags(void **state)
{
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct renderer *r;
	struct segment s;
	(void)state;

	cap_open(&cap);
	r = render_text_new(cap.f, NULL);

	/* SACK blocks shown relative to the receiver's ISN, like the ack. */
	s = mkseg(TCP_FLAG_ACK, 1000 + 1, 5000 + 1001, 300);
	s.opt.nop_count = 2;
	s.opt.sack_count = 2;
	s.opt.sack[0][0] = 5000 + 2001;
	s.opt.sack[0][1] = 5000 + 3001;
	s.opt.sack[1][0] = 5000 + 4001;
	s.opt.sack[1][1] = 5000 + 5001;
	emit_seg(r, 1, &c, 7, TL_CLIENT, &s, true, 1, 1001, false, NULL);

	/* No flags at all, unknown and malformed options, a bogus SACK count. */
	s = mkseg(0, 1, 2, 0);
	s.opt.unknown_count = 2;
	s.opt.malformed = true;
	s.opt.nop_count = 40;
	emit_seg(r, 1, &c, 8, TL_SERVER, &s, true, 1, 2, false, NULL);

	s = mkseg(0xFF, 1, 2, 0);
	s.opt.sack_count = 200; /* corrupted count must not read past the array */
	s.opt.sack[3][0] = 9;
	s.opt.sack[3][1] = 10;
	emit_seg(r, 1, &c, 9, TL_SERVER, &s, false, 0, 0, false, NULL);

	/* A RST: no ack field shown without ACK. */
	s = mkseg(TCP_FLAG_RST, 77, 88, 0);
	emit_seg(r, 1, &c, 10, TL_SERVER, &s, true, 0, 0, false, NULL);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text options");

	assert_line(cap.buf, "  0.000000  C → S  ACK      seq=1001 (1)           ack=6001 (1001)        win=300 len=0");
	assert_line(cap.buf, "                            [nop,nop,sack 2 {2001:3001}{4001:5001}]");
	assert_contains(cap.buf, "C ← S  none     seq=1 (1)");
	assert_line(cap.buf, "                            [nop x40,unknown 2,malformed]");
	assert_contains(cap.buf, "C ← S  SYN,FIN,RST,PSH,ACK,URG,ECE,CWR  seq=1");
	assert_contains(cap.buf, "{9:10}]\n");
	assert_line(cap.buf, "  0.000000  C ← S  RST      seq=77 (0)                                    win=0 len=0");
	cap_free(&cap);
}

static void test_text_color(void **state)
{
	struct capture cap;
	struct render_options opt = { .color = true };
	(void)state;

	render_scenario(&cap, false, &opt, true, "text color");
	assert_contains(cap.buf, "\033[32mSYN\033[0m      seq=");      /* SYN green, padding outside */
	assert_contains(cap.buf, "\033[33mFIN,ACK\033[0m  seq=");
	assert_contains(cap.buf, "\033[1;31m[retransmission]\033[0m");
	assert_contains(cap.buf, "CLOSED → \033[36mSYN-SENT\033[0m        (sent SYN");
	/* Colour sequences take no column: the state reason is still aligned. */
	assert_contains(cap.buf, "\033[32mclosed\033[0m — client closed first");
	cap_free(&cap);
}

static void test_text_hostile_strings(void **state)
{
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct renderer *r;
	struct segment s = mkseg(TCP_FLAG_ACK, 1, 1, 1);
	(void)state;

	cap_open(&cap);
	r = render_text_new(cap.f, NULL);
	emit_note(r, 1, &c, 0, "bell\a esc\033[2J bad\xff utf8 ok: \xc3\xa9 c1: \xc2\x9b" "2J");
	emit_seg(r, 1, &c, 0, TL_CLIENT, &s, true, 1, 1, false, "tab\there");
	/* One column more than fits in 100: the annotation moves to a continuation line. */
	emit_seg(r, 1, &c, 0, TL_CLIENT, &s, true, 1, 1, false, "tab\there!");
	emit_state(r, 1, &c, 0, TL_CLIENT, TCP_ESTABLISHED, (enum tcp_state)99, NULL);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "text hostile");

	assert_line(cap.buf, "  0.000000  note: bell\\x07 esc\\x1b[2J bad\\xff utf8 ok: é c1: \\xc2\\x9b2J");
	/* Exactly 100 columns: stays on the line. */
	assert_line(cap.buf, "  0.000000  C → S  ACK      seq=1 (1)              ack=1 (1)              win=1 len=0  — tab\\x09here");
	assert_line(cap.buf, "  0.000000  C → S  ACK      seq=1 (1)              ack=1 (1)              win=1 len=0");
	assert_line(cap.buf, "                            — tab\\x09here!");
	assert_line(cap.buf, "            client  ESTABLISHED → ?");
	assert_not_contains(cap.buf, "\033");
	cap_free(&cap);
}

/* Output order is kept when someone else writes to the same FILE. */
static void test_text_interleaved_writer(void **state)
{
	struct capture cap;
	struct renderer *r;
	(void)state;

	cap_open(&cap);
	r = render_text_new(cap.f, NULL);
	emit_note(r, 1, NULL, 0, "one");
	fputs("between\n", cap.f);
	emit_note(r, 1, NULL, 0, "two");
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "interleaved");
	assert_string_equal(cap.buf, "  0.000000  note: one\nbetween\n            note: two\n");
	cap_free(&cap);
}

/* ---- JSON ---------------------------------------------------------------- */

static void test_json_scenario(void **state)
{
	struct capture cap;
	struct render_options opt = { 0 };
	(void)state;

	render_scenario(&cap, true, &opt, true, "json full");
	assert_int_equal(assert_json_lines(cap.buf), 24);
	assert_python_json(cap.buf);

	assert_line(cap.buf, "{\"event\":\"connection\",\"conn\":1,\"t\":0.000000,\"client\":\"198.18.0.1:43512\",\"server\":\"198.18.0.2:8080\",\"client_addr\":\"198.18.0.1\",\"client_port\":43512,\"server_addr\":\"198.18.0.2\",\"server_port\":8080,\"midstream\":false,\"start\":1714564800.123457}");
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":1,\"t\":0.000000,\"from\":\"client\",\"flags\":[\"SYN\"],\"seq\":2882756817,\"ack\":0,\"rel_seq\":0,\"rel_ack\":null,\"win\":64240,\"len\":0,\"options\":{\"mss\":1460,\"sack_permitted\":true,\"wscale\":7,\"ts_val\":1,\"ts_ecr\":0},\"retransmission\":false}");
	assert_line(cap.buf, "{\"event\":\"state\",\"conn\":1,\"t\":0.000000,\"endpoint\":\"client\",\"from\":\"CLOSED\",\"to\":\"SYN-SENT\",\"reason\":\"sent SYN: active open\"}");
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":1,\"t\":0.000021,\"from\":\"server\",\"flags\":[\"SYN\",\"ACK\"],\"seq\":1004003002,\"ack\":2882756818,\"rel_seq\":0,\"rel_ack\":1,\"win\":65160,\"len\":0,\"options\":{\"mss\":1460,\"sack_permitted\":true,\"wscale\":7,\"ts_val\":2,\"ts_ecr\":1},\"retransmission\":false}");
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":1,\"t\":0.000100,\"from\":\"client\",\"flags\":[\"PSH\",\"ACK\"],\"seq\":2882756818,\"ack\":1004003003,\"rel_seq\":1,\"rel_ack\":1,\"win\":502,\"len\":6,\"options\":{},\"retransmission\":false,\"payload\":\"hello\\n\"}");
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":1,\"t\":0.000400,\"from\":\"server\",\"flags\":[\"FIN\",\"ACK\"],\"seq\":1004003003,\"ack\":2882756825,\"rel_seq\":1,\"rel_ack\":8,\"win\":509,\"len\":0,\"options\":{},\"retransmission\":true,\"note\":\"FIN retransmitted (RTO 200 ms)\"}");
	assert_line(cap.buf, "{\"event\":\"note\",\"conn\":1,\"t\":0.060512,\"text\":\"TIME-WAIT over after 2MSL (shortened to 60 ms)\"}");
	assert_line(cap.buf, "{\"event\":\"summary\",\"conn\":1,\"outcome\":\"closed\",\"ended\":\"client closed first; four-segment teardown\",\"start\":1714564800.123457,\"duration\":0.000512,\"handshake_rtt\":0.000021000,\"reaction_time\":0.000019049,"
			     "\"client\":{\"bytes\":6,\"segments\":5,\"retransmissions\":0,\"final_state\":\"TIME-WAIT\",\"isn\":2882756817,\"options\":{\"mss\":1460,\"sack_permitted\":true,\"wscale\":7,\"ts_val\":1,\"ts_ecr\":0},"
			     "\"goodput_bps\":null,\"rtt\":null,\"retransmissions_by_cause\":{\"rto\":0,\"fast\":0,\"other\":0,\"spurious\":0},\"dup_acks\":0,\"zero_windows\":0,\"zero_window_time\":0.000000,\"zero_window_probes\":0,\"window_updates\":0,\"out_of_order\":0,\"keep_alives\":0,\"max_flight\":null},"
			     "\"server\":{\"bytes\":0,\"segments\":4,\"retransmissions\":1,\"final_state\":\"CLOSED\",\"isn\":1004003002,\"options\":{\"mss\":1460,\"sack_permitted\":true,\"wscale\":7,\"ts_val\":2,\"ts_ecr\":1},"
			     "\"goodput_bps\":null,\"rtt\":null,\"retransmissions_by_cause\":{\"rto\":0,\"fast\":0,\"other\":0,\"spurious\":0},\"dup_acks\":0,\"zero_windows\":0,\"zero_window_time\":0.000000,\"zero_window_probes\":0,\"window_updates\":0,\"out_of_order\":0,\"keep_alives\":0,\"max_flight\":null},"
			     "\"negotiated\":{\"wscale\":true,\"sack\":true,\"timestamps\":true},\"midstream\":false}");
	cap_free(&cap);
}

static void test_json_escapes(void **state)
{
	static const uint8_t bin[] = { '"', '\\', '\n', '\r', '\t', 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xa9, 'A' };
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct renderer *r;
	struct segment s;
	uint8_t big[100];
	(void)state;

	cap_open(&cap);
	r = render_json_new(cap.f, NULL);
	s = mkseg(TCP_FLAG_PSH | TCP_FLAG_ACK, 5, 6, 7);
	s.payload = bin;
	s.payload_len = sizeof(bin);
	s.payload_captured = sizeof(bin);
	emit_seg(r, 1, &c, 1, TL_CLIENT, &s, true, 1, 1, false, "quote \" backslash \\ bell \a");

	/* More than 64 bytes: the preview stops at 64. */
	memset(big, 'x', sizeof(big));
	s.payload = big;
	s.payload_len = sizeof(big);
	s.payload_captured = sizeof(big);
	emit_seg(r, 1, &c, 2, TL_CLIENT, &s, true, 13, 1, false, NULL);

	/* Data on the wire but not captured: an empty preview. */
	s.payload = NULL;
	s.payload_captured = 0;
	emit_seg(r, 1, &c, 3, TL_CLIENT, &s, true, 113, 1, false, NULL);

	/* Invalid UTF-8 in text becomes U+FFFD; valid UTF-8 passes; so does a cut sequence. */
	emit_note(r, 0, NULL, 4, "bad \xff\xfe good \xe2\x86\x92 overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xe2\x86");
	emit_note(r, 0, NULL, 4, "overlong3 \xe0\x80\xaf emoji \xf0\x9f\x98\x80 overlong4 \xf0\x8f\xbf\xbf too big \xf4\x90\x80\x80 max \xf4\x8f\xbf\xbf");
	emit_state(r, 1, &c, 5, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, NULL);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "json escapes");

	assert_int_equal(assert_json_lines(cap.buf), 6);
	assert_python_json(cap.buf);
	assert_contains(cap.buf, ",\"payload\":\"\\\"\\\\\\n\\r\\t\\u0000\\u001f\\u007f\\u0080\\u00c3\\u00a9A\",\"note\":\"quote \\\" backslash \\\\ bell \\u0007\"}\n");
	{
		char want[128];

		snprintf(want, sizeof(want), ",\"payload\":\"%.64s\"}\n",
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		assert_contains(cap.buf, want);
	}
	assert_contains(cap.buf, "\"len\":100,\"options\":{},\"retransmission\":false,\"payload\":\"\"}\n");
	assert_line(cap.buf, "{\"event\":\"note\",\"conn\":0,\"t\":0.000000,\"text\":\"bad \\ufffd\\ufffd good \xe2\x86\x92 overlong \\ufffd\\ufffd surrogate \\ufffd\\ufffd\\ufffd cut \\ufffd\\ufffd\"}");
	assert_line(cap.buf, "{\"event\":\"note\",\"conn\":0,\"t\":0.000000,\"text\":\"overlong3 \\ufffd\\ufffd\\ufffd emoji \xf0\x9f\x98\x80 overlong4 \\ufffd\\ufffd\\ufffd\\ufffd too big \\ufffd\\ufffd\\ufffd\\ufffd max \xf4\x8f\xbf\xbf\"}");
	assert_line(cap.buf, "{\"event\":\"state\",\"conn\":1,\"t\":0.000000,\"endpoint\":\"server\",\"from\":\"LISTEN\",\"to\":\"SYN-RECEIVED\",\"reason\":\"\"}");
	cap_free(&cap);
}

static void test_json_ipv6_unknown_rel(void **state)
{
	struct tl_conn_begin c;
	struct capture cap;
	struct renderer *r;
	struct segment s;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ip_addr_parse("2001:db8::1", &c.client_addr), 0);
	assert_int_equal(ip_addr_parse("::1", &c.server_addr), 0);
	c.client_port = 55000;
	c.server_port = 80;
	c.midstream = true;
	c.start_ns = 999999999999ull;

	cap_open(&cap);
	r = render_json_new(cap.f, NULL);
	emit_begin(r, 2, &c);
	s = mkseg(TCP_FLAG_ACK, 4294967295u, 0, 65535);
	s.opt.sack_count = 1;
	s.opt.sack[0][0] = 10;
	s.opt.sack[0][1] = 20;
	s.opt.unknown_count = 1;
	s.opt.malformed = true;
	emit_seg(r, 2, &c, 1999999999, TL_SERVER, &s, false, 0, 0, false, NULL);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "json ipv6");

	assert_int_equal(assert_json_lines(cap.buf), 2);
	assert_python_json(cap.buf);
	assert_line(cap.buf, "{\"event\":\"connection\",\"conn\":2,\"t\":0.000000,\"client\":\"[2001:db8::1]:55000\",\"server\":\"[::1]:80\",\"client_addr\":\"2001:db8::1\",\"client_port\":55000,\"server_addr\":\"::1\",\"server_port\":80,\"midstream\":true,\"start\":1000.000000}");
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":2,\"t\":2.000000,\"from\":\"server\",\"flags\":[\"ACK\"],\"seq\":4294967295,\"ack\":0,\"rel_seq\":null,\"rel_ack\":null,\"win\":65535,\"len\":0,\"options\":{\"sack\":[[10,20]],\"unknown\":1,\"malformed\":true},\"retransmission\":false}");
	cap_free(&cap);
}

static void test_json_absolute_only(void **state)
{
	struct capture cap;
	struct render_options opt = { .absolute_only = true, .show_conn = true, .color = true };
	(void)state;

	render_scenario(&cap, true, &opt, true, "json absolute");
	assert_int_equal(assert_json_lines(cap.buf), 24);
	assert_not_contains(cap.buf, "rel_seq");
	assert_not_contains(cap.buf, "rel_ack");
	assert_not_contains(cap.buf, "\033");  /* colour is a text-only option */
	assert_line(cap.buf, "{\"event\":\"segment\",\"conn\":1,\"t\":0.000021,\"from\":\"server\",\"flags\":[\"SYN\",\"ACK\"],\"seq\":1004003002,\"ack\":2882756818,\"win\":65160,\"len\":0,\"options\":{\"mss\":1460,\"sack_permitted\":true,\"wscale\":7,\"ts_val\":2,\"ts_ecr\":1},\"retransmission\":false}");
	cap_free(&cap);
}

static void test_json_summary_only_unknown(void **state)
{
	struct render_options opt = { .summary_only = true };
	struct tl_conn_begin c = conn_v4();
	struct capture cap;
	struct tl_summary sm;
	struct renderer *r;
	(void)state;

	cap_open(&cap);
	r = render_json_new(cap.f, &opt);
	emit_scenario(r, 1, &c, true);
	memset(&sm, 0, sizeof(sm));
	sm.outcome = TL_OUTCOME_HALF_OPEN;
	sm.ended_how = "SYN with no answer in the capture";
	sm.start_ns = 0;
	sm.duration_ns = 0;
	sm.side[TL_CLIENT].final_state = TCP_SYN_SENT;
	sm.side[TL_CLIENT].segments = 3;
	sm.side[TL_CLIENT].retransmissions = 2;
	sm.side[TL_CLIENT].isn_known = true;
	sm.side[TL_CLIENT].isn = 0;
	sm.side[TL_CLIENT].syn_seen = true; /* a SYN without options */
	sm.side[TL_SERVER].final_state = TCP_LISTEN;
	emit_summary(r, 2, &c, 0, &sm);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "json summary_only");

	assert_int_equal(assert_json_lines(cap.buf), 2);
	assert_python_json(cap.buf);
	assert_not_contains(cap.buf, "\"event\":\"segment\"");
	assert_not_contains(cap.buf, "\"event\":\"connection\"");
	assert_line(cap.buf, "{\"event\":\"summary\",\"conn\":2,\"outcome\":\"half-open\",\"ended\":\"SYN with no answer in the capture\",\"start\":0.000000,\"duration\":0.000000,\"handshake_rtt\":null,\"reaction_time\":null,"
			     "\"client\":{\"bytes\":0,\"segments\":3,\"retransmissions\":2,\"final_state\":\"SYN-SENT\",\"isn\":0,\"options\":{},"
			     "\"goodput_bps\":null,\"rtt\":null,\"retransmissions_by_cause\":{\"rto\":0,\"fast\":0,\"other\":0,\"spurious\":0},\"dup_acks\":0,\"zero_windows\":0,\"zero_window_time\":0.000000,\"zero_window_probes\":0,\"window_updates\":0,\"out_of_order\":0,\"keep_alives\":0,\"max_flight\":null},"
			     "\"server\":{\"bytes\":0,\"segments\":0,\"retransmissions\":0,\"final_state\":\"LISTEN\",\"isn\":null,\"options\":null,"
			     "\"goodput_bps\":null,\"rtt\":null,\"retransmissions_by_cause\":{\"rto\":0,\"fast\":0,\"other\":0,\"spurious\":0},\"dup_acks\":0,\"zero_windows\":0,\"zero_window_time\":0.000000,\"zero_window_probes\":0,\"window_updates\":0,\"out_of_order\":0,\"keep_alives\":0,\"max_flight\":null},"
			     "\"negotiated\":{\"wscale\":false,\"sack\":false,\"timestamps\":false},\"midstream\":false}");
	cap_free(&cap);
}

/* Numbers at the edges of their types still print as plain JSON numbers. */
static void test_json_number_edges(void **state)
{
	struct capture cap;
	struct renderer *r;
	struct tl_summary sm;
	(void)state;

	memset(&sm, 0, sizeof(sm));
	sm.outcome = (enum tl_outcome)42;
	sm.start_ns = UINT64_MAX;
	sm.duration_ns = 1999999500;
	sm.rtt_known = sm.reaction_known = true;
	sm.rtt_ns = UINT64_MAX;
	sm.reaction_ns = 1;
	sm.side[TL_CLIENT].bytes = UINT64_MAX;
	sm.side[TL_CLIENT].segments = UINT32_MAX;
	sm.side[TL_CLIENT].final_state = (enum tcp_state)77;
	cap_open(&cap);
	r = render_json_new(cap.f, NULL);
	emit_summary(r, 4000000000u, NULL, UINT64_MAX, &sm);
	render_finish(r);
	render_destroy(r);
	cap_close(&cap, "json edges");
	assert_int_equal(assert_json_lines(cap.buf), 1);
	assert_python_json(cap.buf);
	assert_contains(cap.buf, "\"conn\":4000000000,\"outcome\":\"unknown\",\"ended\":\"\",\"start\":18446744073.709552,\"duration\":2.000000,\"handshake_rtt\":18446744073.709551615,\"reaction_time\":0.000000001,");
	assert_contains(cap.buf, "{\"bytes\":18446744073709551615,\"segments\":4294967295,\"retransmissions\":0,\"final_state\":\"?\",");
	cap_free(&cap);
}

/* ---- shared ------------------------------------------------------------- */

static void test_wrappers_null_safe(void **state)
{
	struct tl_event ev;
	struct renderer blank;
	(void)state;

	memset(&ev, 0, sizeof(ev));
	memset(&blank, 0, sizeof(blank));
	render_emit(NULL, &ev);
	render_finish(NULL);
	render_destroy(NULL);
	/* A renderer without methods, and a NULL event, are ignored too. */
	render_emit(&blank, &ev);
	render_finish(&blank);
	render_destroy(&blank);
	assert_null(render_text_new(NULL, NULL));
	assert_null(render_json_new(NULL, NULL));
}

static void test_null_segment_and_unknown_kind(void **state)
{
	struct capture cap;
	struct tl_event ev;
	(void)state;

	for (int json = 0; json < 2; json++) {
		struct renderer *r;

		cap_open(&cap);
		r = json ? render_json_new(cap.f, NULL) : render_text_new(cap.f, NULL);
		memset(&ev, 0, sizeof(ev));
		ev.kind = TL_EV_SEGMENT; /* seg == NULL */
		render_emit(r, &ev);
		ev.kind = (enum tl_event_kind)99;
		render_emit(r, &ev);
		render_emit(r, NULL);
		render_finish(r);
		render_destroy(r);
		cap_close(&cap, "nothing");
		assert_int_equal(cap.len, 0);
		cap_free(&cap);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tl_outcome_name(TL_OUTCOME_CLOSED), "closed");
	assert_string_equal(tl_outcome_name(TL_OUTCOME_OPEN), "open");
	assert_string_equal(tl_outcome_name(TL_OUTCOME_REFUSED), "refused");
	assert_string_equal(tl_outcome_name(TL_OUTCOME_RESET), "reset");
	assert_string_equal(tl_outcome_name(TL_OUTCOME_TIMEOUT), "timeout");
	assert_string_equal(tl_outcome_name(TL_OUTCOME_HALF_OPEN), "half-open");
	assert_string_equal(tl_outcome_name((enum tl_outcome)-1), "unknown");
	assert_string_equal(tl_role_name(TL_CLIENT), "client");
	assert_string_equal(tl_role_name(TL_SERVER), "server");
	assert_string_equal(tl_role_name((enum tl_role)2), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_handshake_teardown),
		cmocka_unit_test(test_text_payload_escapes),
		cmocka_unit_test(test_text_ipv6_midstream),
		cmocka_unit_test(test_text_absolute_only),
		cmocka_unit_test(test_text_show_conn),
		cmocka_unit_test(test_text_summary_only),
		cmocka_unit_test(test_text_summary_unknown),
		cmocka_unit_test(test_text_durations),
		cmocka_unit_test(test_text_options_and_flags),
		cmocka_unit_test(test_text_color),
		cmocka_unit_test(test_text_hostile_strings),
		cmocka_unit_test(test_text_interleaved_writer),
		cmocka_unit_test(test_json_scenario),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_json_ipv6_unknown_rel),
		cmocka_unit_test(test_json_absolute_only),
		cmocka_unit_test(test_json_summary_only_unknown),
		cmocka_unit_test(test_json_number_edges),
		cmocka_unit_test(test_wrappers_null_safe),
		cmocka_unit_test(test_null_segment_and_unknown_kind),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
