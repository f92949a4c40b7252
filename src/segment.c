/*
 * segment.c — small helpers around struct segment: address comparison,
 * formatting and parsing, and the human spelling of TCP flags.
 *
 * The inline sequence-space helpers live in segment.h; this file holds the
 * functions that need libc (inet_ntop / inet_pton, snprintf).  Every writer
 * here takes a caller-supplied buffer and its size, never writes past it and
 * always NUL-terminates when the size is not zero.
 */
#include "tcplab/segment.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Number of address bytes that matter for a family (IPv4 uses the first 4). */
static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4u : 16u;
}

/*
 * True when a and b have the same family and the same address bytes.  For
 * IPv4 only the first 4 bytes are compared, so stale bytes left in the rest
 * of the array never make two equal addresses differ.  NULL equals only NULL.
 */
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->family != b->family)
		return false;
	return memcmp(a->bytes, b->bytes, addr_len(a->family)) == 0;
}

/*
 * Formats a into buf as inet_ntop would ("198.18.0.1", "2001:db8::1").  An
 * address of an unknown family prints as "?".  The text is cut to fit buflen
 * (46 bytes, INET6_ADDRSTRLEN, always suffices); returns buf.
 */
const char *ip_addr_format(const struct ip_addr *a, char *buf, size_t buflen)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *text = "?";

	if (buf == NULL || buflen == 0)
		return buf;
	if (a != NULL && a->family == 4) {
		/* By hand: replay formats two addresses per summary line, and
		 * inet_ntop's sprintf was a fifth of a --summary run. */
		char *p = tmp;
		for (int i = 0; i < 4; i++) {
			unsigned v = a->bytes[i];
			if (i > 0)
				*p++ = '.';
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
		}
		*p = '\0';
		text = tmp;
	} else if (a != NULL && a->family == 6) {
		if (inet_ntop(AF_INET6, a->bytes, tmp, sizeof(tmp)) != NULL)
			text = tmp;
	}
	size_t n = strlen(text);
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Parses an IPv4 dotted-quad or an IPv6 literal (RFC 4291 §2.2) into *out.
 * Returns 0 on success, -1 when text is neither (out is then left untouched).
 * Host names, prefixes, brackets and zone indexes are not accepted: callers
 * that want names resolve them first (route module).
 */
int ip_addr_parse(const char *text, struct ip_addr *out)
{
	struct ip_addr a;

	if (text == NULL || out == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a.bytes) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, text, a.bytes) == 1) {
		a.family = 6;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

/*
 * Writes the names of the set flags joined by sep into buf, in the order
 * tcpdump users read them (SYN FIN RST PSH ACK URG ECE CWR), or "none".  A
 * NULL sep means "|".  The text is cut to fit buflen; returns buf.
 */
const char *tcp_flags_format(uint8_t flags, const char *sep, char *buf, size_t buflen)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{ TCP_FLAG_SYN, "SYN" }, { TCP_FLAG_FIN, "FIN" }, { TCP_FLAG_RST, "RST" },
		{ TCP_FLAG_PSH, "PSH" }, { TCP_FLAG_ACK, "ACK" }, { TCP_FLAG_URG, "URG" },
		{ TCP_FLAG_ECE, "ECE" }, { TCP_FLAG_CWR, "CWR" },
	};
	size_t used = 0;
	bool first = true;

	if (buf == NULL || buflen == 0)
		return buf;
	if (sep == NULL)
		sep = "|";
	buf[0] = '\0';
	if (flags == 0) {
		snprintf(buf, buflen, "none");
		return buf;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(flags & names[i].bit))
			continue;
		/* Once the buffer is full, snprintf keeps it terminated; stop. */
		if (used >= buflen - 1)
			break;
		n = snprintf(buf + used, buflen - used, "%s%s", first ? "" : sep, names[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
		if (used >= buflen)
			used = buflen - 1;
		first = false;
	}
	return buf;
}
