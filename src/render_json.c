/*
 * render_json.c — JSON Lines output (RFC 8259 objects, one per line).
 *
 * One object per event, keys always in the same order, numbers as JSON
 * numbers.  The schema is documented field by field in docs/json-schema.md;
 * scripts and autograders rely on it, so a change here is a change of a
 * public interface: add keys, never rename or reorder them.
 *
 * Strings: '"' and '\\' are escaped, \n \r \t use their short forms, every
 * other control character (and DEL) becomes \u00XX (RFC 8259 §7).  Text from
 * the tracker passes through when it is valid UTF-8; an invalid byte becomes
 * U+FFFD, so every line is valid UTF-8 and valid JSON.  Payload bytes are
 * not text: each byte b becomes the code point U+00bb (printable ASCII as
 * itself, anything else as \u00XX), so the preview is byte-exact.
 */
#include "tcplab/render.h"

#include <stdlib.h>

#include "render_buf.h"
#include "tcplab/decode.h"
#include "tcplab/catalog.h"
#include "tcplab/checksum.h"
#include "tcplab/explain.h"
#include "tcplab/side_counters.h"

/* Longest payload preview, in captured bytes. */
#define JSON_PAYLOAD_PREVIEW 64

struct json_priv {
	struct rbuf b;
	struct explainer *x;          /* --explain; NULL otherwise */
	struct explanation expl;      /* the current segment's, filled by json_emit */
};

static const char hex_digits[] = "0123456789abcdef";

/* Appends the escape \u00XX for byte c. */
static void json_u00(struct rbuf *b, unsigned char c)
{
	char e[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF] };

	rbuf_write(b, e, sizeof(e));
}

/* Appends the escaped form of one ASCII byte (c < 0x80). */
static void json_ascii(struct rbuf *b, unsigned char c)
{
	switch (c) {
	case '"':
		rbuf_write(b, "\\\"", 2);
		break;
	case '\\':
		rbuf_write(b, "\\\\", 2);
		break;
	case '\n':
		rbuf_write(b, "\\n", 2);
		break;
	case '\r':
		rbuf_write(b, "\\r", 2);
		break;
	case '\t':
		rbuf_write(b, "\\t", 2);
		break;
	default:
		if (c < 0x20 || c == 0x7F)
			json_u00(b, c);
		else
			rbuf_putc(b, (char)c);
	}
}

/*
 * Appends s as a JSON string, quotes included.  Valid UTF-8 is copied;
 * a byte that does not start a well-formed sequence becomes U+FFFD.
 * NULL is written as "".
 */
static void json_text(struct rbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	rbuf_putc(b, '"');
	while (*p != '\0') {
		if (*p < 0x80) {
			json_ascii(b, *p++);
			continue;
		}
		size_t n = utf8_str_seq_len(p);

		if (n == 0) {
			rbuf_write(b, "\\ufffd", 6);
			p++;
		} else {
			rbuf_write(b, (const char *)p, n);
			p += n;
		}
	}
	rbuf_putc(b, '"');
}

/* Appends n payload bytes as a JSON string, one code point per byte. */
static void json_bytes(struct rbuf *b, const uint8_t *p, size_t n)
{
	rbuf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80)
			json_ascii(b, p[i]);
		else
			json_u00(b, p[i]);
	}
	rbuf_putc(b, '"');
}

/* Appends true or false. */
static void json_bool(struct rbuf *b, bool v)
{
	if (v)
		rbuf_write(b, "true", 4);
	else
		rbuf_write(b, "false", 5);
}

/* Appends the common head: {"event":"<kind>","conn":N */
static void json_head(struct rbuf *b, const char *kind, unsigned conn)
{
	rbuf_puts(b, "{\"event\":\"");
	rbuf_puts(b, kind);
	rbuf_puts(b, "\",\"conn\":");
	rbuf_u64(b, conn);
}

/* Appends ,"t":<seconds, 6 decimals> */
static void json_t(struct rbuf *b, uint64_t t_ns)
{
	rbuf_puts(b, ",\"t\":");
	(void)rbuf_seconds(b, t_ns, 6);
}

/* Appends ,"<key>":"<endpoint text>" */
static void json_endpoint(struct rbuf *b, const char *key, const struct ip_addr *a, uint16_t port)
{
	char text[ENDPOINT_TEXT_SIZE];
	size_t n = endpoint_format(a, port, text);

	rbuf_puts(b, key);
	rbuf_putc(b, '"');
	rbuf_write(b, text, n); /* digits, dots, colons, brackets, hex: nothing to escape */
	rbuf_putc(b, '"');
}

/* Appends ,"<key>":"<address>" */
static void json_addr(struct rbuf *b, const char *key, const struct ip_addr *a)
{
	char text[48];

	ip_addr_format(a, text, sizeof(text));
	rbuf_puts(b, key);
	json_text(b, text);
}

/*
 * Appends an options object with only the options present, in the order
 * mss, sack_permitted, wscale, ts_val, ts_ecr, sack, unknown, malformed.
 */
static void json_options(struct rbuf *b, const struct tcp_options *o)
{
	const char *sep = "";

	rbuf_putc(b, '{');
	if (o->has_mss) {
		rbuf_puts(b, "\"mss\":");
		rbuf_u64(b, o->mss);
		sep = ",";
	}
	if (o->has_sack_perm) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"sack_permitted\":true");
		sep = ",";
	}
	if (o->has_wscale) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"wscale\":");
		rbuf_u64(b, o->wscale);
		sep = ",";
	}
	if (o->has_timestamps) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"ts_val\":");
		rbuf_u64(b, o->ts_val);
		rbuf_puts(b, ",\"ts_ecr\":");
		rbuf_u64(b, o->ts_ecr);
		sep = ",";
	}
	if (o->sack_count > 0) {
		/* The count comes from the wire via decode: never index past the array. */
		unsigned n = o->sack_count < TCP_MAX_SACK_BLOCKS ? o->sack_count : TCP_MAX_SACK_BLOCKS;

		rbuf_puts(b, sep);
		rbuf_puts(b, "\"sack\":[");
		for (unsigned i = 0; i < n; i++) {
			rbuf_puts(b, i == 0 ? "[" : ",[");
			rbuf_u64(b, o->sack[i][0]);
			rbuf_putc(b, ',');
			rbuf_u64(b, o->sack[i][1]);
			rbuf_putc(b, ']');
		}
		rbuf_putc(b, ']');
		sep = ",";
	}
	if (o->unknown_count > 0) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"unknown\":");
		rbuf_u64(b, o->unknown_count);
		sep = ",";
	}
	if (o->malformed) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"malformed\":true");
		sep = ",";
	}
	/* Options known by name (issue 13). */
	if (o->has_tfo) {
		static const char hx[] = "0123456789abcdef";

		rbuf_puts(b, sep);
		rbuf_puts(b, "\"tfo_cookie\":\"");
		for (unsigned i = 0; i < o->tfo_cookie_len && i < sizeof(o->tfo_cookie); i++) {
			rbuf_putc(b, hx[o->tfo_cookie[i] >> 4]);
			rbuf_putc(b, hx[o->tfo_cookie[i] & 0xF]);
		}
		rbuf_putc(b, '"');
		sep = ",";
	}
	if (o->has_mptcp) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"mptcp\":\"");
		rbuf_puts(b, mptcp_subtype_name(o->mptcp_subtype));
		rbuf_putc(b, '"');
		sep = ",";
	}
	if (o->has_tcp_ao) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"tcp_ao\":{\"keyid\":");
		rbuf_u64(b, o->ao_keyid);
		rbuf_puts(b, ",\"rnextkeyid\":");
		rbuf_u64(b, o->ao_rnextkeyid);
		rbuf_putc(b, '}');
		sep = ",";
	}
	if (o->has_md5) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"md5\":true");
		sep = ",";
	}
	if (o->truncated) {
		rbuf_puts(b, sep);
		rbuf_puts(b, "\"truncated\":true");
	}
	rbuf_putc(b, '}');
}

/* {"event":"connection",...}: the header of a connection. */
static void json_conn_begin(struct rbuf *b, const struct tl_event *ev)
{
	const struct tl_conn_begin *c = &ev->u.begin;

	json_head(b, "connection", ev->conn);
	json_t(b, ev->t_ns);
	json_endpoint(b, ",\"client\":", &c->client_addr, c->client_port);
	json_endpoint(b, ",\"server\":", &c->server_addr, c->server_port);
	json_addr(b, ",\"client_addr\":", &c->client_addr);
	rbuf_puts(b, ",\"client_port\":");
	rbuf_u64(b, c->client_port);
	json_addr(b, ",\"server_addr\":", &c->server_addr);
	rbuf_puts(b, ",\"server_port\":");
	rbuf_u64(b, c->server_port);
	rbuf_puts(b, ",\"midstream\":");
	json_bool(b, c->midstream);
	rbuf_puts(b, ",\"start\":");
	(void)rbuf_seconds(b, c->start_ns, 6);
	if (c->encap_count > 0) {
		unsigned n = c->encap_count < SEGMENT_MAX_ENCAP ? c->encap_count : SEGMENT_MAX_ENCAP;

		rbuf_puts(b, ",\"tunnel\":[");
		for (unsigned i = 0; i < n; i++) {
			rbuf_puts(b, i ? ",\"" : "\"");
			rbuf_puts(b, segment_encap_name(c->encap[i]));
			rbuf_putc(b, '"');
		}
		rbuf_putc(b, ']');
	}
	rbuf_puts(b, "}\n");
}

/* Appends ,"analysis":["duplicate-ack",...] (and ,"dup_ack":N): the
 * segment's marks, in enum tl_mark order (analysis.h). */
static void json_marks(struct rbuf *b, const struct tl_segment_event *se)
{
	const char *sep = "";

	rbuf_puts(b, ",\"analysis\":[");
	for (unsigned i = 0; i < TL_MARK_COUNT; i++) {
		const char *name = tl_mark_name(1u << i);

		if ((se->marks & (1u << i)) && name != NULL) {
			rbuf_puts(b, sep);
			rbuf_putc(b, '"');
			rbuf_puts(b, name);
			rbuf_putc(b, '"');
			sep = ",";
		}
	}
	rbuf_putc(b, ']');
	if (se->marks & TL_MARK_DUP_ACK) {
		rbuf_puts(b, ",\"dup_ack\":");
		rbuf_u64(b, se->dup_ack);
	}
}

/* {"event":"segment",...}: one segment. */
static void json_segment(struct rbuf *b, const struct tl_event *ev, const struct render_options *opt,
			 const struct explanation *expl)
{
	const struct tl_segment_event *se = &ev->u.segment;
	const struct segment *s = se->seg;
	const char *sep = "";

	json_head(b, "segment", ev->conn);
	json_t(b, ev->t_ns);
	rbuf_puts(b, ",\"from\":\"");
	rbuf_puts(b, tl_role_name(se->from));
	rbuf_puts(b, "\",\"flags\":[");
	for (unsigned i = 0; i < TCP_FLAG_NAME_COUNT; i++) {
		if (s->flags & tcp_flag_names[i].bit) {
			rbuf_puts(b, sep);
			rbuf_putc(b, '"');
			rbuf_puts(b, tcp_flag_names[i].name);
			rbuf_putc(b, '"');
			sep = ",";
		}
	}
	rbuf_puts(b, "],\"seq\":");
	rbuf_u64(b, s->seq);
	rbuf_puts(b, ",\"ack\":");
	rbuf_u64(b, s->ack);
	if (!opt->absolute_only) {
		rbuf_puts(b, ",\"rel_seq\":");
		if (se->rel_seq_known)
			rbuf_u64(b, se->rel_seq);
		else
			rbuf_puts(b, "null");
		/* Without ACK the acknowledgment field means nothing (RFC 9293 §3.1). */
		rbuf_puts(b, ",\"rel_ack\":");
		if (se->rel_ack_known && (s->flags & TCP_FLAG_ACK))
			rbuf_u64(b, se->rel_ack);
		else
			rbuf_puts(b, "null");
	}
	rbuf_puts(b, ",\"win\":");
	rbuf_u64(b, s->window);
	rbuf_puts(b, ",\"len\":");
	rbuf_u64(b, s->payload_len);
	rbuf_puts(b, ",\"options\":");
	json_options(b, &s->opt);
	rbuf_puts(b, ",\"retransmission\":");
	json_bool(b, se->retransmission);
	if (se->lost)
		rbuf_puts(b, ",\"lost\":true");   /* only then: existing lines do not change */
	if (s->payload_len > 0) {
		size_t n = s->payload != NULL ? s->payload_captured : 0;

		if (n > s->payload_len)
			n = s->payload_len;
		if (n > JSON_PAYLOAD_PREVIEW)
			n = JSON_PAYLOAD_PREVIEW;
		rbuf_puts(b, ",\"payload\":");
		json_bytes(b, s->payload, n);
	}
	if (se->annotation != NULL) {
		rbuf_puts(b, ",\"note\":");
		json_text(b, catalog_tr(se->annotation));
	}
	if (opt->header) {
		rbuf_puts(b, ",\"checksum\":\"");
		rbuf_puts(b, checksum_status_name((enum tcp_csum_status)s->csum_status));
		rbuf_putc(b, '"');
	}
	if (expl != NULL && expl->step != NULL) {
		rbuf_puts(b, ",\"explain\":{\"step\":");
		json_text(b, expl->step);
		rbuf_puts(b, ",\"lines\":[");
		for (unsigned i = 0; i < expl->nlines; i++) {
			if (i)
				rbuf_putc(b, ',');
			json_text(b, expl->lines[i]);
		}
		rbuf_puts(b, "]}");
	}
	if (se->marks != 0)
		json_marks(b, se);
	if (segment_ecn_setup(s))
		rbuf_puts(b, ",\"ecn_setup\":true");
	if (segment_tfo_data(s))
		rbuf_puts(b, ",\"tfo_data\":true");
	rbuf_puts(b, "}\n");
}

/* The keys a state change and a kernel-state change share, in their fixed
 * order: event, conn, t, endpoint, from, to. */
static void json_transition(struct rbuf *b, const char *event, const struct tl_event *ev,
			    enum tl_role endpoint, enum tcp_state from, enum tcp_state to)
{
	json_head(b, event, ev->conn);
	json_t(b, ev->t_ns);
	rbuf_puts(b, ",\"endpoint\":\"");
	rbuf_puts(b, tl_role_name(endpoint));
	rbuf_puts(b, "\",\"from\":");
	json_text(b, tcp_state_name(from));
	rbuf_puts(b, ",\"to\":");
	json_text(b, tcp_state_name(to));
}

/* {"event":"state",...}: one endpoint changed state. */
static void json_state(struct rbuf *b, const struct tl_event *ev)
{
	const struct tl_state_event *st = &ev->u.state;

	json_transition(b, "state", ev, st->endpoint, st->from, st->to);
	rbuf_puts(b, ",\"reason\":");
	json_text(b, catalog_tr(st->reason));
	if (st->correction)
		rbuf_puts(b, ",\"correction\":true");
	rbuf_puts(b, "}\n");
}

/* {"event":"kernel-state",...}: the local kernel changed a socket's state. */
static void json_kernel_state(struct rbuf *b, const struct tl_event *ev)
{
	const struct tl_kernel_state_event *st = &ev->u.kstate;

	json_transition(b, "kernel-state", ev, st->endpoint, st->from, st->to);
	rbuf_puts(b, ",\"kernel\":");
	json_text(b, st->kernel_to);
	rbuf_puts(b, "}\n");
}

/* {"event":"note",...}: a sentence for the reader. */
static void json_note(struct rbuf *b, const struct tl_event *ev)
{
	json_head(b, "note", ev->conn);
	json_t(b, ev->t_ns);
	rbuf_puts(b, ",\"text\":");
	json_text(b, catalog_tr(ev->u.note));
	rbuf_puts(b, "}\n");
}

/* {"event":"endpoint",...}: the driven endpoint's sender (docs/json-schema.md) */
static void json_endpoint_event(struct rbuf *b, const struct tl_event *ev)
{
	const struct tl_endpoint_event *e = &ev->u.endpoint;

	json_head(b, "endpoint", ev->conn);
	json_t(b, ev->t_ns);
	rbuf_puts(b, ",\"endpoint\":\"");
	rbuf_puts(b, tl_role_name(e->endpoint));
	rbuf_puts(b, "\",\"what\":");
	json_text(b, e->what);
	rbuf_puts(b, ",\"cwnd\":");
	rbuf_u64(b, e->cwnd);
	rbuf_puts(b, ",\"ssthresh\":");
	if (e->ssthresh_set)
		rbuf_u64(b, e->ssthresh);
	else
		rbuf_puts(b, "null");
	rbuf_puts(b, ",\"peer_window\":");
	rbuf_u64(b, e->peer_window);
	rbuf_puts(b, ",\"seq\":");
	if (e->seq_known)
		rbuf_u64(b, e->seq);
	else
		rbuf_puts(b, "null");
	rbuf_puts(b, ",\"len\":");
	rbuf_u64(b, e->seq_known ? e->len : 0);
	rbuf_puts(b, ",\"rto\":");
	(void)rbuf_seconds(b, e->rto_ns, 6);
	rbuf_puts(b, ",\"text\":");
	json_text(b, e->text ? catalog_tr(e->text) : "");   /* a sentence: follows --lang */
	rbuf_puts(b, "}\n");
}

/* Appends a duration in seconds with 9 decimals, or null when unknown. */
static void json_opt_seconds9(struct rbuf *b, bool known, uint64_t ns)
{
	if (known)
		(void)rbuf_seconds(b, ns, 9);
	else
		rbuf_puts(b, "null");
}

/* Appends the wire figures of one side (analysis.h) to its summary object. */
static void json_side_analysis(struct rbuf *b, const struct tl_side_analysis *an)
{
	rbuf_puts(b, ",\"goodput_bps\":");
	if (an->goodput_known)
		rbuf_u64(b, an->goodput_bps);
	else
		rbuf_puts(b, "null");
	rbuf_puts(b, ",\"rtt\":");
	if (an->rtt_samples > 0) {
		rbuf_puts(b, "{\"samples\":");
		rbuf_u64(b, an->rtt_samples);
		rbuf_puts(b, ",\"min\":");
		(void)rbuf_seconds(b, an->rtt_min_ns, 9);
		rbuf_puts(b, ",\"avg\":");
		(void)rbuf_seconds(b, an->rtt_avg_ns, 9);
		rbuf_puts(b, ",\"max\":");
		(void)rbuf_seconds(b, an->rtt_max_ns, 9);
		rbuf_putc(b, '}');
	} else {
		rbuf_puts(b, "null");
	}
	rbuf_puts(b, ",\"retransmissions_by_cause\":{\"rto\":");
	rbuf_u64(b, an->retrans_rto);
	rbuf_puts(b, ",\"fast\":");
	rbuf_u64(b, an->retrans_fast);
	rbuf_puts(b, ",\"other\":");
	rbuf_u64(b, an->retrans_other);
	rbuf_puts(b, ",\"spurious\":");
	rbuf_u64(b, an->retrans_spurious);
	rbuf_putc(b, '}');
	/* the counters: one table for JSON and text (side_counters.h) */
	for (unsigned i = 0; i < side_counter_count; i++) {
		const struct side_counter *c = &side_counters[i];

		rbuf_puts(b, ",\"");
		rbuf_puts(b, c->key);
		rbuf_puts(b, "\":");
		rbuf_u64(b, side_counter_value(c, an));
		if (c->time_key != NULL) {
			rbuf_puts(b, ",\"");
			rbuf_puts(b, c->time_key);
			rbuf_puts(b, "\":");
			(void)rbuf_seconds(b, side_counter_time(c, an), 6);
		}
	}
	rbuf_puts(b, ",\"max_flight\":");
	if (an->flight_known)
		rbuf_u64(b, an->max_flight);
	else
		rbuf_puts(b, "null");
}

/* Appends {"bytes":...,"options":...} for one side of a summary. */
static void json_side(struct rbuf *b, const struct tl_side_summary *side,
		      const struct tl_side_analysis *an)
{
	rbuf_puts(b, "{\"bytes\":");
	rbuf_u64(b, side->bytes);
	rbuf_puts(b, ",\"segments\":");
	rbuf_u64(b, side->segments);
	rbuf_puts(b, ",\"retransmissions\":");
	rbuf_u64(b, side->retransmissions);
	rbuf_puts(b, ",\"final_state\":");
	json_text(b, tcp_state_name(side->final_state));
	rbuf_puts(b, ",\"isn\":");
	if (side->isn_known)
		rbuf_u64(b, side->isn);
	else
		rbuf_puts(b, "null");
	/* Options are only known from the side's SYN (or SYN-ACK). */
	rbuf_puts(b, ",\"options\":");
	if (side->syn_seen)
		json_options(b, &side->syn_options);
	else
		rbuf_puts(b, "null");
	json_side_analysis(b, an);
	rbuf_putc(b, '}');
}

/* {"event":"summary",...}: the connection is over. */
static void json_summary(struct rbuf *b, const struct tl_event *ev)
{
	const struct tl_summary *sm = &ev->u.summary;

	json_head(b, "summary", ev->conn);
	rbuf_puts(b, ",\"outcome\":\"");
	rbuf_puts(b, tl_outcome_name(sm->outcome));
	rbuf_puts(b, "\",\"ended\":");
	json_text(b, catalog_tr(sm->ended_how));
	rbuf_puts(b, ",\"start\":");
	(void)rbuf_seconds(b, sm->start_ns, 6);
	rbuf_puts(b, ",\"duration\":");
	(void)rbuf_seconds(b, sm->duration_ns, 6);
	rbuf_puts(b, ",\"handshake_rtt\":");
	json_opt_seconds9(b, sm->rtt_known, sm->rtt_ns);
	rbuf_puts(b, ",\"reaction_time\":");
	json_opt_seconds9(b, sm->reaction_known, sm->reaction_ns);
	rbuf_puts(b, ",\"client\":");
	json_side(b, &sm->side[TL_CLIENT], &sm->an[TL_CLIENT]);
	rbuf_puts(b, ",\"server\":");
	json_side(b, &sm->side[TL_SERVER], &sm->an[TL_SERVER]);
	rbuf_puts(b, ",\"negotiated\":{\"wscale\":");
	json_bool(b, sm->wscale_ok);
	rbuf_puts(b, ",\"sack\":");
	json_bool(b, sm->sack_ok);
	rbuf_puts(b, ",\"timestamps\":");
	json_bool(b, sm->timestamps_ok);
	rbuf_puts(b, "},\"midstream\":");
	json_bool(b, sm->midstream);
	/* only when some checksum was wrong (issue 12), so clean captures keep
	 * their lines: {"client":{"bad":N,"offloaded":N,"checked":N},"server":...} */
	if (sm->csum_bad[0] + sm->csum_bad[1] + sm->csum_offloaded[0] + sm->csum_offloaded[1] > 0) {
		rbuf_puts(b, ",\"bad_checksums\":{");
		for (int i = 0; i < 2; i++) {
			rbuf_puts(b, i ? ",\"server\":{\"bad\":" : "\"client\":{\"bad\":");
			rbuf_u64(b, sm->csum_bad[i]);
			rbuf_puts(b, ",\"offloaded\":");
			rbuf_u64(b, sm->csum_offloaded[i]);
			rbuf_puts(b, ",\"checked\":");
			rbuf_u64(b, sm->csum_checked[i]);
			rbuf_putc(b, '}');
		}
		rbuf_putc(b, '}');
	}
	rbuf_puts(b, "}\n");
}

/* {"event":"datagram","protocol":"udp",...}: one UDP datagram (--udp). */
static void json_datagram(struct rbuf *b, const struct tl_event *ev)
{
	const struct segment *s = ev->u.datagram.seg;
	size_t n = s->payload != NULL ? s->payload_captured : 0;

	rbuf_puts(b, "{\"event\":\"datagram\",\"protocol\":");
	json_text(b, ev->u.datagram.protocol);
	rbuf_puts(b, ",\"conn\":0");
	json_t(b, ev->t_ns);
	json_endpoint(b, ",\"src\":", &s->src, s->sport);
	json_endpoint(b, ",\"dst\":", &s->dst, s->dport);
	json_addr(b, ",\"src_addr\":", &s->src);
	rbuf_puts(b, ",\"src_port\":");
	rbuf_u64(b, s->sport);
	json_addr(b, ",\"dst_addr\":", &s->dst);
	rbuf_puts(b, ",\"dst_port\":");
	rbuf_u64(b, s->dport);
	rbuf_puts(b, ",\"len\":");
	rbuf_u64(b, s->payload_len);
	if (s->payload_len > 0) {
		if (n > s->payload_len)
			n = s->payload_len;
		if (n > JSON_PAYLOAD_PREVIEW)
			n = JSON_PAYLOAD_PREVIEW;
		rbuf_puts(b, ",\"payload\":");
		json_bytes(b, s->payload, n);
	}
	rbuf_puts(b, "}\n");
}

/* renderer.emit: writes one line for ev (summaries only with summary_only). */
static void json_emit(struct renderer *r, const struct tl_event *ev)
{
	struct json_priv *p = r->priv;
	struct rbuf *b = &p->b;

	if (r->opt.summary_only && ev->kind != TL_EV_SUMMARY)
		return;
	if (p->x != NULL && ev->kind != TL_EV_SEGMENT)
		(void)explain_event(p->x, ev, NULL);
	switch (ev->kind) {
	case TL_EV_CONN_BEGIN:
		json_conn_begin(b, ev);
		break;
	case TL_EV_SEGMENT:
		if (ev->u.segment.seg == NULL)
			return;
		json_segment(b, ev, &r->opt,
			     explain_event(p->x, ev, &p->expl) > 0 || p->expl.step ? &p->expl : NULL);
		break;
	case TL_EV_STATE:
		json_state(b, ev);
		break;
	case TL_EV_NOTE:
		json_note(b, ev);
		break;
	case TL_EV_SUMMARY:
		json_summary(b, ev);
		break;
	case TL_EV_KERNEL_STATE:
		json_kernel_state(b, ev);
		break;
	case TL_EV_DATAGRAM:
		json_datagram(b, ev);
		break;
	case TL_EV_ENDPOINT:
		json_endpoint_event(b, ev);
		break;
	default:
		return; /* a kind added after this renderer: say nothing rather than guess */
	}
	rbuf_flush(b);
}

/* renderer.finish: flushes stdio; the FILE stays open. */
static void json_finish(struct renderer *r)
{
	struct json_priv *p = r->priv;

	rbuf_flush(&p->b);
	fflush(r->out);
}

/* renderer.destroy: frees the renderer, writes nothing. */
static void json_destroy(struct renderer *r)
{
	struct json_priv *p = r->priv;

	if (p != NULL)
		explainer_free(p->x);
	free(r->priv);
	free(r);
}

/*
 * JSON Lines renderer writing to out (not owned, not closed).  opt may be
 * NULL (all defaults).  Returns NULL when out of memory or when out is NULL.
 */
struct renderer *render_json_new(FILE *out, const struct render_options *opt)
{
	struct renderer *r;
	struct json_priv *p;

	if (out == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	p = malloc(sizeof(*p));
	if (r == NULL || p == NULL) {
		free(r);
		free(p);
		return NULL;
	}
	rbuf_init(&p->b, out);
	p->x = NULL;
	p->expl.step = NULL;
	p->expl.nlines = 0;
	if (opt != NULL && opt->explain && (p->x = explainer_new()) == NULL) {
		free(r);
		free(p);
		return NULL;
	}
	r->emit = json_emit;
	r->finish = json_finish;
	r->destroy = json_destroy;
	r->out = out;
	if (opt != NULL)
		r->opt = *opt;
	r->priv = p;
	return r;
}
