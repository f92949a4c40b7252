/*
 * tcpserver.c — a real kernel TCP server for tcplab's test lab.
 *
 * The integration tests run `tcplab connect` against this server inside a
 * network namespace, so the peer of every crafted connection is the Linux
 * TCP stack itself, not a second implementation of our own assumptions.
 * Each mode provokes one teardown shape tcplab must display:
 *
 *   echo        echo everything until the peer's FIN (EOF), then close():
 *               the client closes first (RFC 9293 §3.6 case 1).
 *   close-first read for --delay-ms (default 200), then close(): the server
 *               sends its FIN first, so the client sees CLOSE-WAIT.
 *   half-close  read until the peer's FIN, (wait --delay-ms, default 0), then
 *               send "late data after your FIN\n" and close(): data that
 *               arrives while the client is in FIN-WAIT-2 (§3.6: a half-
 *               closed connection may still carry data the other way).
 *   rst         read for --delay-ms (default 200), then SO_LINGER {1, 0} and
 *               close(): an abortive close, the kernel sends RST (§3.10.7.x).
 *   silent      accept, never read or write; the connection stays open
 *               until the server is stopped.
 *   no-accept   listen and never call accept(): completed handshakes pile
 *               up in the accept queue (listen(2)'s backlog, --backlog N,
 *               default 128) until the server is stopped.  Logs nothing.
 *   sink        (wait --pause-ms first, default 0), then read until the
 *               peer's FIN, hashing every byte (SHA-256), then close().
 *               With --rcvbuf N (a tiny receive buffer) and a pause, the
 *               peer meets a zero window and must probe.
 *   send        send --send-bytes N bytes of the lab pattern (byte i is
 *               (i*131 + (i>>8)*7) & 255), shutdown(SHUT_WR), then read
 *               until the peer's FIN and close().
 *
 * For every connection one JSON line is written to --log (default stdout),
 * flushed at once:
 *   {"peer":"ip:port","mode":"echo","accepted":true,"received_hex":"...",
 *    "received_len":N,"close":"eof"|"reset"|"server-closed"|"server-reset"|
 *    "open"|"error: ...","peer_fin":bool,"sent_len":N,"sha256":"hex"}
 * sha256 is the digest of every byte received (received_hex keeps only the
 * first 64 KiB); data_us the time from accept() to the last byte read (0
 * when none): goodput = received_len / data_us.
 * close: "eof" the peer's FIN was read first and the server then closed
 * normally; "reset" the peer reset the connection; "server-closed" this
 * server closed (FIN) before the peer's FIN was seen; "server-reset" rst
 * mode's abortive close (always, even after the peer's FIN); "open" the
 * server was stopped while the connection was still open.  peer_fin tells
 * whether the peer's FIN (EOF) was read at all.
 *
 * Once listening it prints "ready" on stdout (after "port N" when --port 0
 * asked for an ephemeral port).  It exits after --count connections have
 * ended (default 1; 0 = never), or on SIGTERM/SIGINT, after logging every
 * connection still open.  One thread per connection, so benchmarks can
 * run parallel clients against one server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

/* How many received bytes are kept for received_hex; received_len counts
 * all of them.  Benchmarks push megabytes through echo mode; the tests only
 * ever look at a few bytes. */
#define KEEP_MAX 65536

#define LATE_DATA "late data after your FIN\n"

enum mode { MODE_ECHO, MODE_CLOSE_FIRST, MODE_HALF_CLOSE, MODE_RST, MODE_SILENT, MODE_NO_ACCEPT, MODE_SINK,
	    MODE_SEND };

static const char *const mode_names[] = {
	[MODE_ECHO] = "echo",
	[MODE_CLOSE_FIRST] = "close-first",
	[MODE_HALF_CLOSE] = "half-close",
	[MODE_RST] = "rst",
	[MODE_SILENT] = "silent",
	[MODE_NO_ACCEPT] = "no-accept",
	[MODE_SINK] = "sink",
	[MODE_SEND] = "send",
};

struct options {
	const char *addr;
	const char *port;
	enum mode mode;
	long count;       /* 0 = unlimited */
	const char *log;  /* NULL = stdout */
	long delay_ms;    /* -1 = the mode's default */
	const char *greeting;
	long backlog;     /* listen(2)'s backlog */
	long rcvbuf;      /* SO_RCVBUF of the listener (inherited), 0 = the kernel's */
	long pause_ms;    /* sink: wait this long before reading */
	long send_bytes;  /* send: how many pattern bytes */
};

/* One accepted connection, owned by its thread. */
struct conn {
	int fd;
	char peer[INET6_ADDRSTRLEN + 16];
	unsigned char *kept;     /* first KEEP_MAX received bytes */
	size_t kept_len;
	uint64_t received_len;
	uint64_t sent_len;
	bool peer_fin;           /* the peer's FIN (EOF) was read */
	char close_kind[160];
	struct sha256 sha;       /* of every byte received */
	int64_t accepted_us, last_byte_us; /* monotonic: accept(), the last byte read */
};

/* Microseconds on the monotonic clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct options opt = { .addr = "0.0.0.0", .port = NULL, .mode = MODE_ECHO,
			      .count = 1, .log = NULL, .delay_ms = -1, .greeting = NULL,
			      .backlog = 128 };

static FILE *log_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read end of the stop pipe: main closes the write end on SIGTERM, which
 * makes this fd readable (EOF) in every connection thread's poll(). */
static int stop_rd = -1;
/* Write end of the done pipe: each connection thread writes one byte here
 * when it has logged and closed its connection. */
static int done_wr = -1;

/* Prints the usage text to fp. */
static void usage(FILE *fp)
{
	fputs("usage: tcpserver --addr A --port P --mode MODE [--count N] [--log FILE]\n"
	      "                 [--delay-ms N] [--greeting TEXT] [--backlog N]\n"
	      "                 [--rcvbuf N] [--pause-ms N] [--send-bytes N]\n"
	      "  MODE: echo | close-first | half-close | rst | silent | no-accept | sink | send\n"
	      "  --port 0 picks a free port and prints \"port N\" before \"ready\".\n"
	      "  --count 0 serves until SIGTERM.\n", fp);
}

/* Parses a non-negative decimal long in [0, max]; false on anything else. */
static bool parse_long(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records why the connection ended, first reason wins. */
static void set_close(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_close(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->close_kind[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->close_kind, sizeof(c->close_kind), fmt, ap);
	va_end(ap);
}

/* Remembers received bytes (up to KEEP_MAX) and counts all of them. */
static void keep_bytes(struct conn *c, const unsigned char *buf, size_t n)
{
	size_t room = KEEP_MAX - c->kept_len;
	size_t take = n < room ? n : room;

	memcpy(c->kept + c->kept_len, buf, take);
	c->kept_len += take;
	c->received_len += n;
	sha256_update(&c->sha, buf, n);
	c->last_byte_us = now_us();
}

/* Sends all of buf; false (close kind set) when the peer is gone. */
static bool send_all(struct conn *c, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		/* MSG_NOSIGNAL: a peer that reset must not kill the server
		 * with SIGPIPE; the reset is what the test wants logged. */
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET || errno == EPIPE)
				set_close(c, "reset");
			else
				set_close(c, "error: send: %s", strerror(errno));
			return false;
		}
		p += w;
		n -= (size_t)w;
		c->sent_len += (uint64_t)w;
	}
	return true;
}

/*
 * One read step: waits up to timeout_ms (-1 = forever) for data, EOF, or
 * the stop signal.  Returns 1 data read (echoed back when echo is true),
 * 0 timeout, -1 EOF (close "eof"), -2 reset/error (close set), -3 stop.
 */
static int read_step(struct conn *c, int timeout_ms, bool echo)
{
	struct pollfd pfd[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = stop_rd, .events = POLLIN },
	};
	unsigned char buf[16384];
	ssize_t n;
	int r;

	r = poll(pfd, 2, timeout_ms);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		set_close(c, "error: poll: %s", strerror(errno));
		return -2;
	}
	if (r == 0)
		return 0;
	if (pfd[0].revents == 0 && pfd[1].revents != 0)
		return -3;
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		if (errno == ECONNRESET) {
			set_close(c, "reset");
			return -2;
		}
		set_close(c, "error: recv: %s", strerror(errno));
		return -2;
	}
	if (n == 0) {
		c->peer_fin = true;
		set_close(c, "eof");
		return -1;
	}
	keep_bytes(c, buf, (size_t)n);
	if (echo && !send_all(c, buf, (size_t)n))
		return -2;
	return 1;
}

/*
 * Reads for delay_ms whatever arrives.  Returns 0 when the time ran out,
 * or read_step's negative result when the connection ended or stop came.
 */
static int read_for(struct conn *c, long delay_ms)
{
	int64_t deadline = now_ms() + delay_ms;

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = read_step(c, (int)left, false);
		if (r < 0)
			return r;
	}
}

/*
 * Reads whatever is already queued without waiting.  Used before close():
 * Linux answers close() with RST instead of FIN when unread data is left in
 * the receive queue (RFC 2525 §2.17), which would spoil a test of an orderly
 * close.  Sets close "eof"/"reset" when those are queued.
 */
static void drain(struct conn *c)
{
	unsigned char buf[16384];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			keep_bytes(c, buf, (size_t)n);
			continue;
		}
		if (n == 0) {
			c->peer_fin = true;
			set_close(c, "eof");
		} else if (errno == ECONNRESET)
			set_close(c, "reset");
		else if (errno == EINTR)
			continue;
		return;
	}
}

/* Waits until the monotonic deadline (ms) or the stop signal; true on stop. */
static bool wait_stop_until(int64_t deadline)
{
	struct pollfd pfd = { .fd = stop_rd, .events = POLLIN };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return false;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* Blocks until the stop signal (silent mode). */
static void wait_stop(void)
{
	struct pollfd pfd = { .fd = stop_rd, .events = POLLIN };

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
}

/* Writes the connection's JSON record, one line, flushed. */
static void log_conn(const struct conn *c)
{
	static const char hex[] = "0123456789abcdef";
	char *h = malloc(c->kept_len * 2 + 1);
	char esc[2 * sizeof(c->close_kind)];
	char digest[65];
	size_t i, j = 0;

	if (h == NULL) {
		fprintf(stderr, "tcpserver: out of memory logging %s\n", c->peer);
		return;
	}
	for (i = 0; i < c->kept_len; i++) {
		h[2 * i] = hex[c->kept[i] >> 4];
		h[2 * i + 1] = hex[c->kept[i] & 0xf];
	}
	h[2 * c->kept_len] = '\0';
	/* close_kind may hold strerror() text: escape JSON specials. */
	for (i = 0; c->close_kind[i] != '\0' && j + 2 < sizeof(esc); i++) {
		unsigned char ch = (unsigned char)c->close_kind[i];

		if (ch == '"' || ch == '\\')
			esc[j++] = '\\';
		esc[j++] = (ch < 0x20) ? ' ' : (char)ch;
	}
	esc[j] = '\0';
	sha256_hex(&c->sha, digest);

	pthread_mutex_lock(&log_lock);
	fprintf(log_fp,
		"{\"peer\":\"%s\",\"mode\":\"%s\",\"accepted\":true,\"received_hex\":\"%s\","
		"\"received_len\":%llu,\"close\":\"%s\",\"peer_fin\":%s,\"sent_len\":%llu,"
		"\"sha256\":\"%s\",\"data_us\":%lld}\n",
		c->peer, mode_names[opt.mode], h, (unsigned long long)c->received_len, esc,
		c->peer_fin ? "true" : "false", (unsigned long long)c->sent_len, digest,
		(long long)(c->last_byte_us ? c->last_byte_us - c->accepted_us : 0));
	fflush(log_fp);
	pthread_mutex_unlock(&log_lock);
	free(h);
}

/* Runs one connection according to the mode, logs it, closes the socket. */
static void *conn_main(void *arg)
{
	struct conn *c = arg;
	bool abortive = false;
	int r;

	if (opt.greeting != NULL && !send_all(c, opt.greeting, strlen(opt.greeting)))
		goto done;

	switch (opt.mode) {
	case MODE_ECHO:
		while ((r = read_step(c, -1, true)) >= 0)
			;
		break;
	case MODE_CLOSE_FIRST:
		r = read_for(c, opt.delay_ms < 0 ? 200 : opt.delay_ms);
		if (r == 0) {
			drain(c);
			set_close(c, "server-closed");
		}
		break;
	case MODE_HALF_CLOSE:
		while ((r = read_step(c, -1, false)) > 0 || r == 0)
			;
		if (r == -1) {
			/* The peer's FIN is in: its side is closed, ours is
			 * not, so data may still flow to it (RFC 9293 §3.6). */
			/* (After EOF the socket stays readable: wait on
			 * the stop pipe alone.) */
			if (opt.delay_ms > 0 && wait_stop_until(now_ms() + opt.delay_ms))
				break;
			send_all(c, LATE_DATA, strlen(LATE_DATA));
		}
		break;
	case MODE_RST: {
		int64_t deadline = now_ms() + (opt.delay_ms < 0 ? 200 : opt.delay_ms);

		r = read_for(c, opt.delay_ms < 0 ? 200 : opt.delay_ms);
		/* The peer's FIN came early: the reset still waits out the
		 * delay, so the test sees RST in reply to a half-closed
		 * connection at a predictable time. */
		if (r == -1 && wait_stop_until(deadline))
			r = -3;
		if (r == 0 || r == -1) {
			/* SO_LINGER with a zero timeout turns close() into an
			 * abortive close: the kernel sends RST, not FIN. */
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
				set_close(c, "error: SO_LINGER: %s", strerror(errno));
			} else {
				/* The RST ends the connection whether or not
				 * the peer's FIN came first. */
				abortive = true;
				snprintf(c->close_kind, sizeof(c->close_kind), "server-reset");
			}
		}
		break;
	}
	case MODE_SILENT:
	case MODE_NO_ACCEPT:   /* never accepts: no connection gets here */
		wait_stop();
		break;
	case MODE_SINK:
		if (opt.pause_ms > 0 && wait_stop_until(now_ms() + opt.pause_ms))
			break;
		while ((r = read_step(c, -1, false)) >= 0)
			;
		break;
	case MODE_SEND: {
		long sent = 0;
		bool ok = true;
		while (ok && sent < opt.send_bytes) {
			long n = opt.send_bytes - sent < 65536 ? opt.send_bytes - sent : 65536;
			unsigned char buf[65536];
			for (long i = 0; i < n; i++) {
				unsigned long k = (unsigned long)(sent + i);
				buf[i] = (unsigned char)((k * 131 + (k >> 8) * 7) & 255);
			}
			ok = send_all(c, buf, (size_t)n);
			sent += n;
		}
		if (ok && shutdown(c->fd, SHUT_WR) == 0)
			while ((r = read_step(c, -1, false)) >= 0)
				;
		break;
	}
	}
done:
	if (!abortive)
		drain(c);
	/* Stopped (SIGTERM) with the connection still up. */
	set_close(c, "open");
	log_conn(c);
	close(c->fd);
	free(c->kept);
	free(c);
	/* Last: main may exit as soon as every byte is in. */
	while (write(done_wr, "x", 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Parses argv into opt; false (message printed) on a bad command line.
 * *help is set (and nothing else checked) when -h/--help was given. */
static bool parse_args(int argc, char **argv, bool *help)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
			return true;
		}
		if (v == NULL) {
			fprintf(stderr, "tcpserver: %s needs a value\n", a);
			return false;
		}
		i++;
		if (strcmp(a, "--addr") == 0) {
			opt.addr = v;
		} else if (strcmp(a, "--port") == 0) {
			long p;

			if (!parse_long(v, 65535, &p)) {
				fprintf(stderr, "tcpserver: bad port %s\n", v);
				return false;
			}
			opt.port = v;
		} else if (strcmp(a, "--mode") == 0) {
			size_t m;

			for (m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
				if (strcmp(v, mode_names[m]) == 0)
					break;
			if (m == sizeof(mode_names) / sizeof(mode_names[0])) {
				fprintf(stderr, "tcpserver: unknown mode %s\n", v);
				return false;
			}
			opt.mode = (enum mode)m;
		} else if (strcmp(a, "--count") == 0) {
			if (!parse_long(v, 1000000000L, &opt.count)) {
				fprintf(stderr, "tcpserver: bad count %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--log") == 0) {
			opt.log = v;
		} else if (strcmp(a, "--delay-ms") == 0) {
			if (!parse_long(v, 3600000L, &opt.delay_ms)) {
				fprintf(stderr, "tcpserver: bad delay %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--greeting") == 0) {
			opt.greeting = v;
		} else if (strcmp(a, "--backlog") == 0) {
			if (!parse_long(v, 65535, &opt.backlog)) {
				fprintf(stderr, "tcpserver: bad backlog %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--rcvbuf") == 0) {
			if (!parse_long(v, 1L << 30, &opt.rcvbuf)) {
				fprintf(stderr, "tcpserver: bad rcvbuf %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--pause-ms") == 0) {
			if (!parse_long(v, 3600000L, &opt.pause_ms)) {
				fprintf(stderr, "tcpserver: bad pause %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--send-bytes") == 0) {
			if (!parse_long(v, 1L << 40, &opt.send_bytes)) {
				fprintf(stderr, "tcpserver: bad byte count %s\n", v);
				return false;
			}
		} else {
			fprintf(stderr, "tcpserver: unknown option %s\n", a);
			return false;
		}
	}
	if (opt.port == NULL) {
		fprintf(stderr, "tcpserver: --port is required\n");
		return false;
	}
	return true;
}

/* Creates the listening socket; -1 (message printed) on failure. */
static int open_listener(void)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	int fd, one = 1, e;

	e = getaddrinfo(opt.addr, opt.port, &hints, &ai);
	if (e != 0) {
		fprintf(stderr, "tcpserver: %s: %s\n", opt.addr, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (opt.rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ (int)opt.rcvbuf }, sizeof(int)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, (int)opt.backlog) < 0) {
		fprintf(stderr, "tcpserver: listen on %s port %s: %s\n", opt.addr, opt.port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Formats a socket address as "ip:port" ("[ip]:port" for IPv6). */
static void format_peer(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

/*
 * Accepts one connection and starts its (detached) thread.  0 accepted,
 * 1 nothing to accept (interrupted, or the connection was reset while in the
 * backlog: not our error), -1 error.
 */
static int accept_one(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	pthread_attr_t attr;
	pthread_t th;
	struct conn *c;
	int fd, e;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
			return 1;
		fprintf(stderr, "tcpserver: accept: %s\n", strerror(errno));
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->kept = malloc(KEEP_MAX)) == NULL) {
		fprintf(stderr, "tcpserver: out of memory\n");
		free(c);
		close(fd);
		return -1;
	}
	c->fd = fd;
	sha256_init(&c->sha);
	c->accepted_us = now_us();
	format_peer(&ss, c->peer, sizeof(c->peer));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&th, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		fprintf(stderr, "tcpserver: pthread_create: %s\n", strerror(e));
		close(fd);
		free(c->kept);
		free(c);
		return -1;
	}
	return 0;
}

/* Port the socket is bound to. */
static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int main(int argc, char **argv)
{
	int lfd, sfd, stop_pipe[2], done_pipe[2];
	long accepted = 0, finished = 0;
	bool stopping = false;
	sigset_t sigs;
	int status = 0;

	bool help = false;

	if (!parse_args(argc, argv, &help)) {
		usage(stderr);
		return 2;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	log_fp = stdout;
	if (opt.log != NULL) {
		log_fp = fopen(opt.log, "a");
		if (log_fp == NULL) {
			fprintf(stderr, "tcpserver: %s: %s\n", opt.log, strerror(errno));
			return 1;
		}
	}

	/* Signals arrive through a signalfd in main's poll(); block them in
	 * every thread (threads inherit the mask) so none is interrupted. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0 || pipe2(stop_pipe, O_CLOEXEC) < 0 || pipe2(done_pipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "tcpserver: signalfd/pipe: %s\n", strerror(errno));
		return 1;
	}
	stop_rd = stop_pipe[0];
	done_wr = done_pipe[1];

	lfd = open_listener();
	if (lfd < 0)
		return 1;
	if (strcmp(opt.port, "0") == 0)
		printf("port %u\n", bound_port(lfd));
	printf("ready\n");
	fflush(stdout);

	/* Runs until --count connections have been accepted and have ended,
	 * or a signal stops it. */
	while (!stopping && (lfd >= 0 || finished < accepted)) {
		struct pollfd pfd[3] = { { .fd = sfd, .events = POLLIN },
					 { .fd = done_pipe[0], .events = POLLIN },
					 { .fd = lfd, .events = POLLIN } };

		/* no-accept: the listener is never polled, so never accepted */
		if (poll(pfd, lfd >= 0 && opt.mode != MODE_NO_ACCEPT ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tcpserver: poll: %s\n", strerror(errno));
			status = 1;
			break;
		}
		if (pfd[0].revents != 0) {
			stopping = true;
			break;
		}
		if (pfd[1].revents != 0) {
			char b[64];
			ssize_t n = read(done_pipe[0], b, sizeof(b));

			if (n > 0)
				finished += n;
		}
		if (lfd >= 0 && pfd[2].revents != 0) {
			int r = accept_one(lfd);

			if (r == 0)
				accepted++;
			else if (r < 0)
				status = 1;
			if (status != 0 || (opt.count > 0 && accepted >= opt.count)) {
				/* No more connections: later SYNs get RST
				 * rather than sitting in a backlog. */
				close(lfd);
				lfd = -1;
			}
		}
	}
	if (lfd >= 0)
		close(lfd);

	/* Stop the connections still open; each logs itself, then reports. */
	close(stop_pipe[1]);
	while (finished < accepted) {
		char b[64];
		ssize_t n = read(done_pipe[0], b, sizeof(b));

		if (n > 0)
			finished += n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (log_fp != stdout)
		fclose(log_fp);
	return status;
}
