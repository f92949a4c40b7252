/*
 * main.c — the command line.  One option table carries every option, the
 * commands it belongs to and its help text (as curl does), so usage, the
 * parser and the man page cannot drift apart.  Only main() exits.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcplab/catalog.h"
#include "tcplab/exitcode.h"
#include "tcplab/firewall.h"
#include "tcplab/kstates.h"
#include "tcplab/ktrace.h"
#include "tcplab/render.h"
#include "tcplab/replay.h"
#include "tcplab/session.h"
#include "tcplab/complete.h"
#include "tcplab/palette.h"
#include "tcplab/paths.h"
#include "tcplab/privilege.h"
#include "tcplab/step.h"
#include "tcplab/textwidth.h"
#include "tcplab/version.h"

enum cmd {
	CMD_CONNECT = 1 << 0,
	CMD_LISTEN  = 1 << 1,
	CMD_REPLAY  = 1 << 2,
	CMD_WATCH   = 1 << 3,
	CMD_LIVE    = CMD_CONNECT | CMD_LISTEN,
	CMD_TRACE   = CMD_CONNECT | CMD_LISTEN | CMD_REPLAY | CMD_WATCH,
};

enum opt_id {
	OPT_DATA = 256, OPT_DATA_FILE, OPT_CLOSE, OPT_SPORT, OPT_ISN, OPT_INTERFACE, OPT_NO_OPTIONS,
	OPT_MSS, OPT_WINDOW, OPT_WSCALE, OPT_RETRIES, OPT_TIMEOUT, OPT_TIME_WAIT, OPT_NO_FIREWALL,
	OPT_WRITE, OPT_JSON, OPT_ABSOLUTE, OPT_IPV4, OPT_IPV6, OPT_COLOR, OPT_ECHO, OPT_SEND,
	OPT_LINGER, OPT_COUNT, OPT_CLOSE_FIRST, OPT_SUMMARY, OPT_CONN, OPT_REALTIME, OPT_SPEED,
	OPT_HELP, OPT_VERSION, OPT_VERBOSE,
	OPT_KERNEL_STATES, OPT_NO_KERNEL_STATES,
	OPT_LADDER, OPT_SVG, OPT_ASCII, OPT_WIDTH, OPT_EVEN, OPT_STEP,   /* issue 11: contiguous */
	OPT_EXPLAIN, OPT_HEADER, OPT_HEX, OPT_LANG,
	OPT_UDP,
	OPT_IW,
	OPT_JSON_FILE,
	OPT_LOSE, OPT_OLD_SYN, OPT_SIMULTANEOUS,   /* issue 10: fault injection */
};

struct option_spec {
	const char *name;
	int short_name;      /* 0 when none */
	const char *arg;     /* NULL: no argument */
	unsigned cmds;       /* enum cmd bits */
	int id;
	const char *help;
};

static const struct option_spec options[] = {
	{ "data", 'd', "TEXT", CMD_LIVE, OPT_DATA, "send TEXT once established (repeatable; \\n, \\r, \\t, \\\\ and \\xNN are unescaped)" },
	{ "data-file", 0, "FILE", CMD_LIVE, OPT_DATA_FILE, "send FILE, streamed (-: standard input; listen: to each client)" },
	{ "send", 0, "TEXT", CMD_LISTEN, OPT_SEND, "listen: send TEXT once established (same as --data)" },
	{ "echo", 0, NULL, CMD_LISTEN, OPT_ECHO, "listen: send back what the client sends" },
	{ "close", 0, "HOW", CMD_LIVE, OPT_CLOSE, "client|server|rst|none: who closes, or abort, or leave open (connect: client; listen: client)" },
	{ "close-first", 0, NULL, CMD_LISTEN, OPT_CLOSE_FIRST, "listen: the server closes first (same as --close server)" },
	{ "linger", 0, "MS", CMD_LISTEN, OPT_LINGER, "listen: stay in CLOSE-WAIT this long before our FIN (default 100)" },
	{ "count", 0, "N", CMD_LISTEN, OPT_COUNT, "listen: stop after N connections (default: until Ctrl-C)" },
	{ "sport", 0, "PORT", CMD_CONNECT, OPT_SPORT, "source port (default: an ephemeral port reserved from the kernel)" },
	{ "isn", 0, "N", CMD_LIVE, OPT_ISN, "initial sequence number (default: random)" },
	{ "interface", 'i', "IFACE", CMD_LIVE | CMD_WATCH, OPT_INTERFACE, "interface to capture on (default: the route's)" },
	{ "no-options", 0, NULL, CMD_LIVE, OPT_NO_OPTIONS, "bare SYN: no MSS, SACK, timestamps or window scale" },
	{ "mss", 0, "N", CMD_LIVE, OPT_MSS, "MSS to offer (default: interface MTU - 40)" },
	{ "window", 0, "N", CMD_LIVE, OPT_WINDOW, "receive window to advertise (default 64240)" },
	{ "wscale", 0, "N", CMD_LIVE, OPT_WSCALE, "window scale shift to offer, 0-14 (default 7)" },
	{ "retries", 0, "N", CMD_LIVE, OPT_RETRIES, "retransmissions of SYN, data or FIN before giving up (default 3)" },
	{ "timeout", 0, "SEC", CMD_LIVE, OPT_TIMEOUT, "give up waiting for the peer after SEC idle seconds (default 10)" },
	{ "time-wait", 0, "SEC", CMD_LIVE, OPT_TIME_WAIT, "how long TIME-WAIT lingers (default 1; RFC 9293 says 2MSL)" },
	{ "no-firewall", 0, NULL, CMD_LIVE, OPT_NO_FIREWALL, "do not install the nftables rule (the kernel's RST will break the connection)" },
	{ "write", 'w', "FILE", CMD_LIVE, OPT_WRITE, "save every segment of the session to FILE (pcap)" },
	{ "json", 0, NULL, CMD_TRACE, OPT_JSON, "JSON Lines output (schema in README)" },
	{ "absolute", 'S', NULL, CMD_TRACE, OPT_ABSOLUTE, "show absolute sequence numbers only" },
	{ "color", 0, "[=WHEN]", CMD_TRACE, OPT_COLOR, "auto|always|never (auto: a terminal, no NO_COLOR; bare: always)" },
	{ "summary", 0, NULL, CMD_REPLAY | CMD_WATCH, OPT_SUMMARY, "one line per connection, printed as it ends" },
	{ "conn", 'c', "N", CMD_REPLAY | CMD_WATCH, OPT_CONN, "show connection number N only" },
	{ "realtime", 0, NULL, CMD_REPLAY, OPT_REALTIME, "pace the output by the capture's timestamps" },
	{ "speed", 0, "X", CMD_REPLAY, OPT_SPEED, "with --realtime: X times faster (default 1)" },
	{ "ipv4", '4', NULL, CMD_CONNECT, OPT_IPV4, "resolve HOST to IPv4 only" },
	{ "ipv6", '6', NULL, CMD_CONNECT, OPT_IPV6, "resolve HOST to IPv6 only" },
	{ "help", 'h', NULL, CMD_TRACE, OPT_HELP, "this help" },
	{ "version", 'V', NULL, CMD_TRACE, OPT_VERSION, "print the version" },
	{ "verbose", 'v', NULL, CMD_TRACE, OPT_VERBOSE, "text: every segment on its own line (default: a data flight is one line)" },
	{ "kernel-states", 0, NULL, CMD_LIVE | CMD_WATCH, OPT_KERNEL_STATES, "show this machine's kernel's own socket states (tracepoint; default on for connect, listen)" },
	{ "no-kernel-states", 0, NULL, CMD_LIVE | CMD_WATCH, OPT_NO_KERNEL_STATES, "do not read the kernel's socket states" },
	{ "ladder", 0, NULL, CMD_TRACE, OPT_LADDER, "the trace as a ladder: time lines, arrows, states beside them" },
	{ "svg", 0, "FILE", CMD_TRACE, OPT_SVG, "also an SVG diagram per connection (several: FILE-N.svg)" },
	{ "ascii", 0, NULL, CMD_TRACE, OPT_ASCII, "ladder in ASCII only (default when the locale is not UTF-8)" },
	{ "width", 0, "N", CMD_TRACE, OPT_WIDTH, "ladder width in columns, 60 to 1000 (default 100)" },
	{ "even", 0, NULL, CMD_TRACE, OPT_EVEN, "SVG rows evenly spaced instead of by time" },
	{ "step", 0, NULL, CMD_REPLAY | CMD_LIVE, OPT_STEP, "wait for Enter before each segment; q ends (stdin: a terminal)" },
	{ "explain", 0, NULL, CMD_TRACE, OPT_EXPLAIN, "under each segment: what it is in the exchange, why the states changed, the RFC rule" },
	{ "header", 'x', NULL, CMD_TRACE, OPT_HEADER, "under each segment: its TCP header field by field (RFC 9293 Figure 1), checksum verified" },
	{ "hex", 0, NULL, CMD_TRACE, OPT_HEX, "with --header: the header's bytes beside each field (implies --header)" },
	{ "lang", 0, "en|zh", CMD_TRACE, OPT_LANG, "language of the text (default: zh when LC_ALL/LC_MESSAGES/LANG is zh_*, else en)" },
	{ "udp", 0, NULL, CMD_REPLAY | CMD_WATCH, OPT_UDP, "also trace UDP datagrams, one line each (no handshake, no state)" },
	{ "iw", 0, "N", CMD_LIVE, OPT_IW, "initial congestion window in segments (default: RFC 6928)" },
	{ "json-file", 0, "FILE", CMD_TRACE, OPT_JSON_FILE, "also write the JSON Lines to FILE (the trace stays as chosen)" },
	{ "lose", 0, "WHAT[:N]", CMD_LIVE, OPT_LOSE, "syn|synack|handshake-ack|data|fin|final-ack[:N]: build the Nth (default 1st) such segment, do not send it (repeatable)" },
	{ "old-syn", 0, NULL, CMD_CONNECT, OPT_OLD_SYN, "an old duplicate SYN (another ISN) arrives before ours: SYN-ACK, our RST, then our SYN (RFC 9293 Figure 8)" },
	{ "simultaneous", 0, NULL, CMD_CONNECT, OPT_SIMULTANEOUS, "hold our SYN until the peer's own SYN arrives: both SYNs cross (RFC 9293 Figure 7)" },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

struct command {
	const char *name;
	unsigned bit;
	const char *synopsis;
	const char *what;
};

static const struct command commands[] = {
	{ "connect", CMD_CONNECT, "connect [OPTIONS] HOST PORT", "client role: handshake, data, teardown, by hand" },
	{ "listen", CMD_LISTEN, "listen [OPTIONS] [ADDR] PORT", "server role: answer SYNs with a crafted SYN-ACK" },
	{ "replay", CMD_REPLAY, "replay [OPTIONS] FILE|- [FILTER]", "the same trace for every connection in a capture" },
	{ "watch", CMD_WATCH, "watch -i IFACE [OPTIONS] [FILTER]", "the replay engine on a live interface (sends nothing)" },
	{ "demo", 0, "demo [NAME|all|--list] [--json]", "a teaching scenario in namespaces of its own (tcplab demo --list names them)" },
	{ "cleanup", 0, "cleanup", "remove nftables tables left by a tcplab killed with SIGKILL" },
};

/* UTF-8 sequence length of the character starting with byte c (1 for a
 * stray byte, so a bad string still advances). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/*
 * Prints text from column `col` on, wrapped at HELP_COLUMNS: continuation
 * lines start at column `indent`.  Breaks at a space, or between two wide
 * (CJK) characters, as Chinese text breaks; a word longer than the line is
 * not cut.  Ends with a newline.
 */
#define HELP_COLUMNS 100
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		const char *q = p, *brk = NULL;
		int w = col, wbrk = 0;

		/* the longest prefix that fits, ending at a break opportunity */
		while (*q) {
			size_t n = utf8_len((unsigned char)*q);
			char ch[5] = { 0 };
			int cw;
			memcpy(ch, q, n > 4 ? 4 : n);
			cw = tw_width(ch);
			if (*q == ' ') {
				brk = q;
				wbrk = w;
			}
			if (w + cw > HELP_COLUMNS && brk)
				break;
			if (cw == 2 && q != p) {       /* a break before a wide character */
				brk = q;
				wbrk = w;
			}
			w += cw;
			q += n;
		}
		if (!*q)
			brk = q;
		(void)wbrk;
		fwrite(p, 1, (size_t)(brk - p), f);
		fputc('\n', f);
		p = brk;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", indent, "");
		col = indent;
	}
	if (p == text)
		fputc('\n', f);
}

static void usage(FILE *f, unsigned only)
{
	fprintf(f, "%s", catalog_tr("usage:\n"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!only || commands[i].bit == only)
		{
			fprintf(f, "  tcplab %-36s ", commands[i].synopsis);
			print_wrapped(f, catalog_tr(commands[i].what), 46, 46);
		}
	fprintf(f, "%s", catalog_tr("options:\n"));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option_spec *o = &options[i];
		char left[64];
		if (only && !(o->cmds & only))
			continue;
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg && o->arg[0] != '[' ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg && o->arg[0] != '[' ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-26s ", left);
		print_wrapped(f, catalog_tr(o->help), 29, 29);
	}
	fprintf(f, "%s", catalog_tr("exit codes: 0 completed, 1 error, 2 usage, 3 refused, 4 reset, 5 timeout,\n"
				    "            6 permission, 7 bad input, 8 network, 130 interrupted\n"));
}

/* Usage error: one sentence, then the command's usage, on stderr. */
__attribute__((format(printf, 2, 3)))
static int usage_error(unsigned cmd, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* translated after formatting: the catalog matches the text against fmt */
	fprintf(stderr, "tcplab: %s\n", catalog_tr(msg));
	usage(stderr, cmd);
	return TCPLAB_EXIT_USAGE;
}

/* Parses an unsigned integer in [lo, hi]; 0 ok, -1 otherwise. */
static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;
	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

/* Unescapes \n \r \t \\ \xNN in place; returns the new length. */
static size_t unescape(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*w++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case '0': *w++ = '\0'; break;
		case '\\': *w++ = '\\'; break;
		case 'x': {
			char hex[3] = { 0, 0, 0 };
			if (p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1]) && strchr("0123456789abcdefABCDEF", p[2])) {
				hex[0] = p[1];
				hex[1] = p[2];
				*w++ = (char)strtol(hex, NULL, 16);
				p += 2;
			} else {
				*w++ = '\\';
				*w++ = 'x';
			}
			break;
		}
		default:
			*w++ = '\\';
			*w++ = *p;
			break;
		}
	}
	return (size_t)(w - s);
}

struct parsed {
	struct connect_options conn;
	/* issue 11: ladder, SVG, step, colour (diagram_option) */
	bool ladder, ascii_set, step;
	const char *svg_path;
	enum color_mode color_mode;
	struct renderer *svg;      /* --svg's renderer, made before the others */
	struct listen_options lis;
	struct replay_options rep;
	struct render_options ro;
	bool json;
	uint8_t *file_data;
	bool stdin_used;         /* --data-file - */
	const char *json_file_path;  /* --json-file: the JSON Lines beside the trace */
	FILE *json_file;
	struct renderer *json_tee;   /* its renderer, made before the others */
};

static int add_data(struct session_common *c, unsigned cmd, const uint8_t *p, size_t len)
{
	if (c->data_count >= SESSION_MAX_DATA)
		return usage_error(cmd, "at most %s --data chunks", "64");
	c->data[c->data_count].bytes = p;
	c->data[c->data_count].len = len;
	c->data_count++;
	return 0;
}

/* --color[=WHEN], --ladder, --svg, --ascii, --width, --even, --step (issue 11). */
static int diagram_option(unsigned cmd, int id, const char *arg, struct parsed *p)
{
	unsigned long long v;

	switch (id) {
	case OPT_COLOR:
		if (palette_parse_mode(arg, &p->color_mode) != 0)
			return usage_error(cmd, "--color takes auto, always or never, not '%s'", arg);
		break;
	case OPT_LADDER: p->ladder = true; break;
	case OPT_SVG:
		if (!*arg)
			return usage_error(cmd, "--svg needs a file name%s", "");
		p->svg_path = arg;
		break;
	case OPT_ASCII: p->ro.ascii = true; p->ascii_set = true; break;
	case OPT_WIDTH:
		if (parse_uint(arg, 60, 1000, &v))
			return usage_error(cmd, "--width takes columns from 60 to 1000, not '%s'", arg);
		p->ro.width = (unsigned)v;
		break;
	case OPT_EVEN: p->ro.even = true; break;
	case OPT_STEP: p->step = true; break;
	}
	return 0;
}

/* True when the user's locale (LC_ALL, LC_CTYPE, LANG) writes UTF-8: the
 * ladder then draws with box-drawing characters.  The process's own
 * LC_CTYPE is put back as it was, so nothing else changes with it. */
static bool locale_is_utf8(void)
{
	char saved[128];
	const char *cur = setlocale(LC_CTYPE, NULL);
	bool utf8 = false;

	snprintf(saved, sizeof(saved), "%s", cur != NULL ? cur : "C");
	if (setlocale(LC_CTYPE, "") != NULL) {
		const char *cs = nl_langinfo(CODESET);

		utf8 = cs != NULL && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	}
	setlocale(LC_CTYPE, saved);
	return utf8;
}

/*
 * After the command line: the colour decision, the ladder's character set,
 * the combinations that make no sense (usage errors), and the SVG renderer
 * (its file checked now, not after a live run).  0, or an exit code with
 * the reason on stderr.
 */
static int diagram_setup(unsigned cmd, struct parsed *p)
{
	p->ro.color = palette_color_wanted(p->color_mode, STDOUT_FILENO);
	p->ro.monochrome = p->color_mode == COLOR_NEVER;
	if (!p->ascii_set)
		p->ro.ascii = !locale_is_utf8();
	if (p->ladder && p->json)
		return usage_error(cmd, "--ladder and --json are two outputs: choose one%s", "");
	if ((p->ladder || p->svg_path || p->step) && p->rep.summary_only)
		return usage_error(cmd, "--summary prints no segments: it cannot go with --ladder, --svg or --step%s", "");
	if (p->step && !isatty(STDIN_FILENO))
		return usage_error(cmd, "--step waits for Enter on standard input, which is not a terminal%s", "");
	if (p->step && (cmd & CMD_LIVE) && p->stdin_used)
		return usage_error(cmd, "--step reads Enter from standard input: --data-file - cannot read it too%s", "");
	if (p->step && (cmd & CMD_LIVE)) {
		/* live: the send path asks before each segment (live_step.h), not the renderer */
		p->conn.c.step = p->lis.c.step = true;
		p->step = false;
	}
	if (p->step)
		p->rep.progress = false;   /* the prompt has stderr to itself */
	if (p->svg_path) {
		char seb[RENDER_SVG_ERRBUF_SIZE];

		p->svg = render_svg_new(p->svg_path, &p->ro, seb);
		if (p->svg == NULL) {
			fprintf(stderr, "tcplab: %s\n", seb);
			return TCPLAB_EXIT_ERROR;
		}
	}
	if (p->json_file_path) {
		/* --json-file: a grader's copy of every event beside the text a
		 * person reads (scripts/demos/lib.sh uses it in text mode) */
		p->json_file = fopen(p->json_file_path, "w");
		if (p->json_file == NULL) {
			catalog_fprintf(stderr, "tcplab: cannot write %s: %s\n", p->json_file_path, strerror(errno));
			return TCPLAB_EXIT_ERROR;
		}
		if (getenv("SUDO_UID") && getenv("SUDO_GID") &&
		    fchown(fileno(p->json_file), (uid_t)strtoul(getenv("SUDO_UID"), NULL, 10),
			   (gid_t)strtoul(getenv("SUDO_GID"), NULL, 10)) != 0) {
			/* not fatal: the file is still written (as the pcap, capture.c) */
		}
		p->json_tee = render_json_new(p->json_file, &p->ro);
		if (p->json_tee == NULL) {
			fclose(p->json_file);
			p->json_file = NULL;
			catalog_fprintf(stderr, "tcplab: out of memory\n");
			return TCPLAB_EXIT_ERROR;
		}
	}
	return 0;
}

static int parse_args(int argc, char **argv, unsigned cmd, struct parsed *p, int *first_operand)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[2 * N_OPTIONS + 2];
	size_t nl = 0, ns = 0;
	struct session_common *c = cmd == CMD_LISTEN ? &p->lis.c : &p->conn.c;
	unsigned long long v;
	int ch;

	/* GNU getopt permutes: options may follow operands, as in tcpdump */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].cmds & cmd))
			continue;
		longopts[nl].name = options[i].name;
		longopts[nl].has_arg = options[i].arg ? (options[i].arg[0] == '[' ? optional_argument : required_argument) : no_argument;
		longopts[nl].flag = NULL;
		longopts[nl].val = options[i].short_name ? options[i].short_name : options[i].id;
		nl++;
		if (options[i].short_name) {
			shortopts[ns++] = (char)options[i].short_name;
			if (options[i].arg)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[nl], 0, sizeof(longopts[nl]));
	shortopts[ns] = '\0';

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int id = ch;
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (options[i].short_name && options[i].short_name == ch)
				id = options[i].id;
		/* issue 11's options are parsed in a function of their own */
		if (id == OPT_COLOR || (id >= OPT_LADDER && id <= OPT_STEP)) {
			int drc = diagram_option(cmd, id, optarg, p);

			if (drc != 0)
				return drc;
			continue;
		}
		switch (id) {
		case '?':
			if (optopt && optopt < 256 && optopt != 0)
				return usage_error(cmd, "unknown option or missing argument: -%c", optopt);
			return usage_error(cmd, "unknown option or missing argument: %s", argv[optind - 1]);
		case OPT_HELP:
			usage(stdout, cmd);
			return -1;
		case OPT_VERSION:
			version_print(stdout);
			return -1;
		case OPT_DATA:
		case OPT_SEND: {
			size_t n = unescape(optarg);
			if (add_data(c, cmd, (const uint8_t *)optarg, n))
				return TCPLAB_EXIT_USAGE;
			break;
		}
		case OPT_DATA_FILE: {
			/* streamed by the session (never read whole): only check
			 * now that it can be opened */
			bool is_stdin = strcmp(optarg, "-") == 0;
			if (is_stdin && cmd == CMD_LISTEN)
				return usage_error(cmd, "listen sends --data-file to every client: give a file, not standard input%s", "");
			if (is_stdin && p->stdin_used)
				return usage_error(cmd, "--data-file - (standard input) may be given once%s", "");
			if (!is_stdin) {
				FILE *f = fopen(optarg, "rb");
				if (!f) {
					catalog_fprintf(stderr, "tcplab: cannot read %s: %s\n", optarg, strerror(errno));
					return TCPLAB_EXIT_USAGE;
				}
				fclose(f);
			}
			p->stdin_used = p->stdin_used || is_stdin;
			if (add_data(c, cmd, NULL, 0))
				return TCPLAB_EXIT_USAGE;
			c->data[c->data_count - 1].path = optarg;
			break;
		}
		case OPT_JSON_FILE:
			if (!*optarg)
				return usage_error(cmd, "--json-file needs a file name%s", "");
			p->json_file_path = optarg;
			break;
		case OPT_IW:
			if (parse_uint(optarg, 1, 1000, &v))
				return usage_error(cmd, "--iw takes a number of segments from 1 to 1000, not '%s'", optarg);
			c->iw = (uint32_t)v;
			break;
		case OPT_LOSE: {
			char feb[FAULT_ERRBUF_SIZE];
			if (fault_plan_add(&c->lose, optarg, feb) != 0)
				return usage_error(cmd, "--lose takes syn, synack, handshake-ack, data, fin or final-ack, "
						   "then :N from 1 (at most 16 times), not '%s'", optarg);
			break;
		}
		case OPT_OLD_SYN:
		case OPT_SIMULTANEOUS:
			if (id == OPT_OLD_SYN ? p->conn.simultaneous : p->conn.old_syn)
				return usage_error(cmd, "--old-syn and --simultaneous cannot be used together%s", "");
			if (id == OPT_OLD_SYN)
				p->conn.old_syn = true;
			else
				p->conn.simultaneous = true;
			break;
		case OPT_ECHO: p->lis.echo = true; break;
		case OPT_CLOSE:
			if (!strcmp(optarg, "client"))
				c->close = cmd == CMD_LISTEN ? SESSION_CLOSE_PEER : SESSION_CLOSE_FIRST;
			else if (!strcmp(optarg, "server"))
				c->close = cmd == CMD_LISTEN ? SESSION_CLOSE_FIRST : SESSION_CLOSE_PEER;
			else if (!strcmp(optarg, "rst"))
				c->close = SESSION_CLOSE_RST;
			else if (!strcmp(optarg, "none"))
				c->close = SESSION_CLOSE_NONE;
			else
				return usage_error(cmd, "--close takes client, server, rst or none, not '%s'", optarg);
			break;
		case OPT_CLOSE_FIRST: c->close = SESSION_CLOSE_FIRST; break;
		case OPT_LINGER:
			if (parse_uint(optarg, 0, 3600000, &v))
				return usage_error(cmd, "--linger takes milliseconds, not '%s'", optarg);
			p->lis.linger_s = (double)v / 1000.0;
			break;
		case OPT_COUNT:
			if (parse_uint(optarg, 1, 1000000, &v))
				return usage_error(cmd, "--count takes a number from 1, not '%s'", optarg);
			p->lis.count = (unsigned)v;
			break;
		case OPT_SPORT:
			if (parse_uint(optarg, 1, 65535, &v))
				return usage_error(cmd, "--sport takes a port from 1 to 65535, not '%s'", optarg);
			p->conn.sport_set = true;
			p->conn.sport = (uint16_t)v;
			break;
		case OPT_ISN:
			if (parse_uint(optarg, 0, UINT32_MAX, &v))
				return usage_error(cmd, "--isn takes a number from 0 to 4294967295, not '%s'", optarg);
			c->isn_set = true;
			c->isn = (uint32_t)v;
			break;
		case OPT_INTERFACE:
			if (strlen(optarg) >= 16 || !*optarg)
				return usage_error(cmd, "interface name '%s' is not valid", optarg);
			c->interface = optarg;
			p->rep.interface = optarg;
			break;
		case OPT_NO_OPTIONS: c->no_options = true; break;
		case OPT_MSS:
			if (parse_uint(optarg, 88, 65535, &v))
				return usage_error(cmd, "--mss takes a number from 88 to 65535, not '%s'", optarg);
			c->mss = (uint16_t)v;
			break;
		case OPT_WINDOW:
			if (parse_uint(optarg, 1, 65535, &v))
				return usage_error(cmd, "--window takes a number from 1 to 65535, not '%s'", optarg);
			c->window = (uint16_t)v;
			break;
		case OPT_WSCALE:
			if (parse_uint(optarg, 0, 14, &v)) /* RFC 7323 §2.3: at most 14 */
				return usage_error(cmd, "--wscale takes a number from 0 to 14, not '%s'", optarg);
			c->wscale = (uint8_t)v;
			break;
		case OPT_RETRIES:
			if (parse_uint(optarg, 0, 15, &v))
				return usage_error(cmd, "--retries takes a number from 0 to 15, not '%s'", optarg);
			c->retries = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, 0.01, 86400, &c->timeout_s))
				return usage_error(cmd, "--timeout takes seconds (0.01 to 86400), not '%s'", optarg);
			break;
		case OPT_TIME_WAIT:
			if (parse_seconds(optarg, 0, 240, &c->time_wait_s))
				return usage_error(cmd, "--time-wait takes seconds (0 to 240), not '%s'", optarg);
			break;
		case OPT_NO_FIREWALL: c->no_firewall = true; break;
		case OPT_WRITE: c->write_path = optarg; break;
		case OPT_JSON: p->json = true; break;
		case OPT_ABSOLUTE: p->ro.absolute_only = true; break;
		case OPT_COLOR: p->ro.color = true; break;
		case OPT_VERBOSE: p->ro.verbose = true; break;
		case OPT_SUMMARY: p->rep.summary_only = true; p->ro.summary_only = true; break;
		case OPT_CONN:
			if (parse_uint(optarg, 1, UINT32_MAX, &v))
				return usage_error(cmd, "--conn takes a connection number from 1, not '%s'", optarg);
			p->rep.only_conn = (unsigned)v;
			break;
		case OPT_REALTIME: p->rep.realtime = true; break;
		case OPT_SPEED:
			if (parse_seconds(optarg, 0.001, 1000000, &p->rep.speed))
				return usage_error(cmd, "--speed takes a positive factor, not '%s'", optarg);
			break;
		case OPT_UDP: p->rep.udp = true; break;
		case OPT_IPV4: p->conn.family = 4; break;
		case OPT_IPV6: p->conn.family = 6; break;
		case OPT_KERNEL_STATES:
			p->conn.c.kernel_states = p->lis.c.kernel_states = p->rep.kernel_states = KSTATES_ON;
			break;
		case OPT_NO_KERNEL_STATES:
			p->conn.c.kernel_states = p->lis.c.kernel_states = p->rep.kernel_states = KSTATES_OFF;
			break;
		case OPT_EXPLAIN: p->ro.explain = true; break;
		case OPT_HEADER: p->ro.header = true; break;
		case OPT_HEX: p->ro.header = p->ro.hex = true; break;
		case OPT_LANG: {
			enum cat_lang l;
			if (catalog_lang_parse(optarg, &l))
				return usage_error(cmd, "--lang takes en or zh, not '%s'", optarg);
			catalog_set_lang(l);
			break;
		}
		default:
			return usage_error(cmd, "unknown option %s", argv[optind - 1]);
		}
	}
	*first_operand = optind;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long long v;
	if (parse_uint(s, 1, 65535, &v))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static struct renderer *make_renderer(const struct parsed *p)
{
	struct renderer *r;

	if (p->ladder || p->svg || p->step) {
		/* issue 11: the ladder instead of the text; the SVG beside the
		 * terminal's trace; step mode in front of both */
		r = p->ladder && !p->json ? render_ladder_new(stdout, &p->ro)
			: p->json ? render_json_new(stdout, &p->ro) : render_text_new(stdout, &p->ro);
		if (r != NULL && p->svg != NULL) {
			struct renderer *t = render_tee_new(r, p->svg);

			if (t == NULL)
				render_destroy(r);
			r = t;
		}
		if (r != NULL && p->step) {
			struct renderer *s = step_renderer_new(r, stdin, stderr);

			if (s == NULL)
				render_destroy(r);
			r = s;
		}
		return r;
	}
	return p->json ? render_json_new(stdout, &p->ro) : render_text_new(stdout, &p->ro);
}

/* The trace's renderer, and beside it --json-file's when asked. */
static struct renderer *make_renderers(const struct parsed *p)
{
	struct renderer *r = make_renderer(p), *t;

	if (r == NULL || p->json_tee == NULL)
		return r;
	t = render_tee_new(r, p->json_tee);
	if (t == NULL)
		render_destroy(r);
	return t;
}

static void defaults(struct session_common *c, enum session_close close)
{
	c->retries = 3;
	c->timeout_s = 10.0;
	c->time_wait_s = 1.0;
	c->wscale = 7;
	c->close = close;
}

static int cmd_cleanup(void)
{
	char eb[FIREWALL_ERRBUF_SIZE];
	unsigned removed = 0, kept = 0;
	bool denied = false;
	if (firewall_cleanup_stale(&removed, &kept, eb, &denied) != 0) {
		catalog_fprintf(stderr, "tcplab: cleanup: %s\n", eb);
		return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
	}
	catalog_fprintf(stdout, "removed %u stale tcplab table%s; kept %u of running tcplab processes\n", removed,
	       removed == 1 ? "" : "s", kept);
	{
		char keb[KTRACE_ERRBUF_SIZE];
		if (ktrace_cleanup_stale(&removed, &kept, keb, &denied) != 0) {
			fprintf(stderr, "tcplab: cleanup: %s\n", keb);
			return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
		}
		printf("removed %u stale tracing instance%s; kept %u of running tcplab processes\n", removed,
		       removed == 1 ? "" : "s", kept);
	}
	return TCPLAB_EXIT_OK;
}

/*
 * `tcplab demo [NAME|all|--list] [--json] [OPTIONS...]`: runs demo.sh from
 * this binary's data directory (the source tree's scripts/, or
 * PREFIX/share/tcplab: see paths.h) with every argument after "demo" passed
 * on, this binary as the tcplab it drives, and the lab programs from the lab
 * directory (build/lab, or PREFIX/libexec/tcplab).
 */
static int cmd_demo(int argc, char **argv)
{
	struct tcplab_paths paths;
	char eb[PATHS_ERRBUF_SIZE], script[PATH_MAX + 16], server[PATH_MAX + 16];
	char **args;

	if (paths_resolve(&paths, eb) != 0) {
		fprintf(stderr, "tcplab: %s\n", eb);
		return TCPLAB_EXIT_ERROR;
	}
	snprintf(script, sizeof(script), "%s/demo.sh", paths.datadir);
	snprintf(server, sizeof(server), "%s/tcpserver", paths.labdir);
	if (access(server, X_OK) != 0) {
		fprintf(stderr, "tcplab: the demo needs the lab server %s: %s\n", server,
			paths.source_tree ? "run make" : "reinstall tcplab");
		return TCPLAB_EXIT_ERROR;
	}
	/* bash script ARGS...: argv[2..] passed as they are */
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (!args) {
		fprintf(stderr, "tcplab: out of memory\n");
		return TCPLAB_EXIT_ERROR;
	}
	args[0] = "bash";
	args[1] = script;
	for (int k = 2; k < argc; k++)
		args[k] = argv[k];
	args[argc < 2 ? 2 : argc] = NULL;
	setenv("TCPLAB", paths.exe, 1);
	setenv("SERVER", server, 1);
	setenv("TCPLAB_DATADIR", paths.datadir, 1);
	setenv("TCPLAB_LABDIR", paths.labdir, 1);
	execv("/bin/bash", args);
	fprintf(stderr, "tcplab: cannot run %s: %s\n", script, strerror(errno));
	free(args);
	return TCPLAB_EXIT_ERROR;
}

/* Demo names for completion: the files of the data directory's demos/
 * (NAME.sh, except lib*.sh and _*.sh, the shared library) and "all"; or,
 * without that directory, the names listed in the demo command's help. */
static void complete_demos(void)
{
	struct tcplab_paths paths;
	char eb[PATHS_ERRBUF_SIZE], dir[PATH_MAX + 16];
	const char *what = NULL;
	int listed = 0;

	if (paths_resolve(&paths, eb) == 0) {
		struct dirent **names;
		int n;
		snprintf(dir, sizeof(dir), "%s/demos", paths.datadir);
		n = scandir(dir, &names, NULL, alphasort);
		for (int i = 0; i < n; i++) {
			const char *d = names[i]->d_name;
			size_t l = strlen(d);
			if (l > 3 && !strcmp(d + l - 3, ".sh") && d[0] != '_' && d[0] != '.' &&
			    strncmp(d, "lib", 3) != 0) {
				printf("%.*s\n", (int)(l - 3), d);
				listed++;
			}
			free(names[i]);
		}
		if (n >= 0)
			free(names);
		if (listed) {
			printf("all\n");
			return;
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, "demo"))
			what = strchr(commands[i].what, '(');
	while (what && *what && *what != ')') {
		size_t l;
		what += strspn(what, "(, ");
		l = strcspn(what, ",) ");
		if (l)
			printf("%.*s\n", (int)l, what);
		what += l;
	}
}

/*
 * `tcplab --complete WHAT [ARG]`: hidden; what the bash and zsh completion
 * scripts ask, generated from the tables above so they never go stale.
 *   commands          NAME<TAB>WHAT per command
 *   options CMD       --LONG<TAB>-S<TAB>ARG<TAB>HELP per option of CMD
 *                     (-S, ARG empty when the option has none)
 *   values OPTION     the words OPTION accepts, one a line (see complete.h)
 *   demos             demo names, one a line
 *   paths             the data and lab directories this binary uses
 */
static int cmd_complete(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";
	const char *arg = argc > 3 ? argv[3] : NULL;

	if (!strcmp(what, "commands")) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			printf("%s\t%s\n", commands[i].name, commands[i].what);
	} else if (!strcmp(what, "options") && arg) {
		const struct command *c = NULL;
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(arg, commands[i].name))
				c = &commands[i];
		if (!c)
			return TCPLAB_EXIT_USAGE;
		/* a command outside the option table (demo) names its options
		 * in its synopsis: "demo [NAME|all|--list] [--json]" */
		for (const char *p = c->bit ? NULL : strstr(c->synopsis, "--"); p; p = strstr(p, "--")) {
			size_t l = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
			if (l > 2)
				printf("%.*s\t\t\t(see tcplab %s --help)\n", (int)l, p, c->name);
			p += l;
		}
		for (size_t i = 0; i < N_OPTIONS; i++) {
			const struct option_spec *o = &options[i];
			if (!(o->cmds & c->bit))
				continue;
			if (o->short_name)
				printf("--%s\t-%c\t%s\t%s\n", o->name, o->short_name, o->arg ? o->arg : "", o->help);
			else
				printf("--%s\t\t%s\t%s\n", o->name, o->arg ? o->arg : "", o->help);
		}
	} else if (!strcmp(what, "values") && arg) {
		char vals[1024];
		const char *name = arg + strspn(arg, "-");
		for (size_t i = 0; i < N_OPTIONS; i++) {
			const struct option_spec *o = &options[i];
			if (!strcmp(name, o->name) || (o->short_name && name[0] == o->short_name && !name[1] &&
						      arg[0] == '-' && arg[1] != '-')) {
				if (complete_values(o->arg, o->help, vals, sizeof(vals)) > 0)
					fputs(vals, stdout);
				break;
			}
		}
	} else if (!strcmp(what, "demos")) {
		complete_demos();
	} else if (!strcmp(what, "paths")) {
		struct tcplab_paths paths;
		char eb[PATHS_ERRBUF_SIZE];
		if (paths_resolve(&paths, eb) != 0) {
			fprintf(stderr, "tcplab: %s\n", eb);
			return TCPLAB_EXIT_ERROR;
		}
		printf("exe\t%s\ndata\t%s\nlab\t%s\n", paths.exe, paths.datadir, paths.labdir);
	} else {
		fprintf(stderr, "tcplab: --complete takes commands, options CMD, values OPTION, demos or paths\n");
		return TCPLAB_EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? TCPLAB_EXIT_OK : TCPLAB_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	/* Redirected output goes out in 64 KiB writes rather than stdio's 4 KiB
	 * (a replay's trace runs to hundreds of MiB).  Static: it must outlive
	 * every use of stdout, up to exit(). */
	static char stdout_buffer[64 << 10];
	static struct parsed p;
	const struct command *cmd = NULL;
	struct renderer *r;
	char errbuf[SESSION_ERRBUF_SIZE > REPLAY_ERRBUF_SIZE ? SESSION_ERRBUF_SIZE : REPLAY_ERRBUF_SIZE];
	int first = 1, rc, nops;
	char **ops;

	if (!isatty(STDOUT_FILENO))
		(void)setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));
	/* The language first, so that usage errors and --help use it too:
	 * --lang wins over LC_ALL / LC_MESSAGES / LANG (issue 12). */
	catalog_set_lang(catalog_lang_from_env());
	for (int i = 1; i < argc; i++) {
		enum cat_lang l;
		const char *v = NULL;
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--lang") && i + 1 < argc)
			v = argv[i + 1];
		else if (!strncmp(argv[i], "--lang=", 7))
			v = argv[i] + 7;
		if (v != NULL && catalog_lang_parse(v, &l) == 0)
			catalog_set_lang(l);
	}
	if (argc < 2) {
		usage(stderr, 0);
		return TCPLAB_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout, 0);
		return TCPLAB_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return version_print(stdout) == 0 ? TCPLAB_EXIT_OK : TCPLAB_EXIT_ERROR;
	if (!strcmp(argv[1], "--complete"))
		return cmd_complete(argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		catalog_fprintf(stderr, "tcplab: unknown command '%s'\n", argv[1]);
		usage(stderr, 0);
		return TCPLAB_EXIT_USAGE;
	}
	if (cmd->bit == 0 && !strcmp(cmd->name, "demo"))
		return cmd_demo(argc, argv);
	if (cmd->bit == 0) {
		if (argc != 2) {
			catalog_fprintf(stderr, "tcplab: cleanup takes no arguments\n");
			return TCPLAB_EXIT_USAGE;
		}
		return cmd_cleanup();
	}

	memset(&p, 0, sizeof(p));
	defaults(&p.conn.c, SESSION_CLOSE_FIRST);
	defaults(&p.lis.c, SESSION_CLOSE_PEER);
	p.lis.linger_s = 0.1;
	p.rep.speed = 1.0;
	rc = parse_args(argc - 1, argv + 1, cmd->bit, &p, &first);
	if (rc != 0) {
		free(p.file_data);
		return rc < 0 ? TCPLAB_EXIT_OK : rc;
	}
	ops = argv + 1 + first;
	nops = argc - 1 - first;

	switch (cmd->bit) {
	case CMD_CONNECT:
		if (nops != 2) {
			free(p.file_data);
			return usage_error(cmd->bit, "connect needs HOST and PORT%s", "");
		}
		p.conn.host = ops[0];
		if (parse_port(ops[1], &p.conn.port)) {
			free(p.file_data);
			return usage_error(cmd->bit, "'%s' is not a port (1 to 65535)", ops[1]);
		}
		break;
	case CMD_LISTEN:
		if (nops < 1 || nops > 2) {
			free(p.file_data);
			return usage_error(cmd->bit, "listen needs [ADDR] PORT%s", "");
		}
		if (nops == 2)
			p.lis.addr = ops[0];
		if (parse_port(ops[nops - 1], &p.lis.port)) {
			free(p.file_data);
			return usage_error(cmd->bit, "'%s' is not a port (1 to 65535)", ops[nops - 1]);
		}
		break;
	case CMD_REPLAY:
		if (nops < 1)
			return usage_error(cmd->bit, "replay needs a FILE (or - for standard input)%s", "");
		p.rep.path = ops[0];
		/* replay FILE FILE... [FILTER]: the operands after the first that
		 * name existing files are more files (a ring of them, merged by
		 * time); the filter starts at the first one that does not */
		p.rep.paths = (const char *const *)ops;
		p.rep.npaths = 1;
		while (p.rep.npaths < nops && replay_is_file(ops[p.rep.npaths]))
			p.rep.npaths++;
		break;
	case CMD_WATCH:
		if (!p.rep.interface)
			return usage_error(cmd->bit, "watch needs -i IFACE%s", "");
		break;
	}

	/* a trailing BPF expression, as tcpdump takes it (several words allowed) */
	static char filter[4096];
	if (cmd->bit == CMD_REPLAY || cmd->bit == CMD_WATCH) {
		int from = cmd->bit == CMD_REPLAY ? (p.rep.npaths > 1 ? p.rep.npaths : 1) : 0;
		size_t n = 0;
		for (int i = from; i < nops; i++) {
			int w = snprintf(filter + n, sizeof(filter) - n, "%s%s", n ? " " : "", ops[i]);
			if (w < 0 || (size_t)w >= sizeof(filter) - n)
				return usage_error(cmd->bit, "filter expression too long%s", "");
			n += (size_t)w;
		}
		if (n)
			p.rep.filter = filter;
		/* progress on a terminal's stderr, unless the trace itself goes
		 * to that terminal (the two would garble each other) */
		p.rep.progress = cmd->bit == CMD_REPLAY && isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
		p.ro.show_conn = true;
	}

	rc = diagram_setup(cmd->bit, &p);   /* issue 11 */
	if (rc != 0) {
		free(p.file_data);
		return rc;
	}

	r = make_renderers(&p);
	if (cmd->bit == CMD_WATCH && p.rep.kernel_states == KSTATES_AUTO)
		p.rep.kernel_states = KSTATES_OFF;   /* watch: only when asked */
	if (r && ((cmd->bit & CMD_LIVE) ? p.conn.c.kernel_states != KSTATES_OFF
					: cmd->bit == CMD_WATCH && p.rep.kernel_states != KSTATES_OFF))
		r = kcheck_new(r);   /* says whether inferred and kernel states agree */
	if (!r) {
		catalog_fprintf(stderr, "tcplab: out of memory\n");
		free(p.file_data);
		return TCPLAB_EXIT_ERROR;
	}
	errbuf[0] = '\0';
	switch (cmd->bit) {
	case CMD_CONNECT: rc = session_connect(&p.conn, r, errbuf); break;
	case CMD_LISTEN: rc = session_listen(&p.lis, r, errbuf); break;
	default: rc = replay_run(&p.rep, r, errbuf); break;
	}
	render_finish(r);
	if (render_svg_failed(p.svg) && rc == TCPLAB_EXIT_OK)
		rc = TCPLAB_EXIT_ERROR;   /* a diagram could not be written (said on stderr) */
	render_destroy(r);
	fflush(stdout);
	if (p.json_file != NULL && fclose(p.json_file) != 0 && rc == TCPLAB_EXIT_OK) {
		catalog_fprintf(stderr, "tcplab: cannot write %s: %s\n", p.json_file_path, strerror(errno));
		rc = TCPLAB_EXIT_ERROR;
	}
	if (errbuf[0])
		fprintf(stderr, "tcplab: %s\n", catalog_tr(errbuf));
	free(p.file_data);
	return rc;
}
