/*
 * tcpclient.c — a kernel TCP client for tcplab's test lab.
 *
 * The peer of `tcplab listen` in the integration tests, the reference client
 * when the lab is checked against tcpserver, and the load generator of the
 * benchmarks.  Each connection does what a textbook client does: connect(),
 * send the text, shutdown(SHUT_WR) (our FIN: RFC 9293 §3.6 half-close),
 * read until the peer's FIN (EOF), close().
 *
 * Usage: tcpclient --addr A --port P [--send TEXT] [--count N]
 *                  [--parallel N] [--expect-echo] [--no-shutdown]
 *                  [--timeout-ms N]
 *
 * --no-shutdown skips the shutdown(SHUT_WR): the client sends, then waits
 * for the server's FIN before it closes, so the server closes first.
 * --send-bytes N sends N bytes of the lab pattern after the text (byte i is
 * (i*131 + (i>>8)*7) & 255, as tcpserver's send mode): uploads for tests
 * and benchmarks.
 *
 * One JSON line per connection on stdout:
 *   {"connected":true,"local":"ip:port","received":"...","received_len":N,
 *    "eof":"clean"|"reset"|"timeout"|"error: ...","elapsed_us":N,
 *    "sent_len":N,"sha256":"hex of every byte received","upload_us":N}
 *   {"connected":false,"error":"Connection refused","elapsed_us":N}
 * "received" is the data as a JSON string (bytes outside printable ASCII as
 * \u00XX).  Exit status 0 when every connection connected and ended with a
 * clean EOF (and, with --expect-echo, received exactly what it sent);
 * 1 otherwise; 2 on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

/* Received bytes kept for the "received" field; received_len counts all. */
#define KEEP_MAX 65536

struct options {
	const char *addr;
	const char *port;
	const char *send;
	long count;
	long parallel;
	bool expect_echo;
	bool no_shutdown;
	long timeout_ms;
	long send_bytes;
};

static struct options opt = { .addr = NULL, .port = NULL, .send = "", .count = 1,
			      .parallel = 1, .expect_echo = false, .no_shutdown = false,
			      .timeout_ms = 10000 };
static struct addrinfo *target;
static atomic_long next_conn;
static atomic_bool any_failed;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Prints the usage text to fp. */
static void usage(FILE *fp)
{
	fputs("usage: tcpclient --addr A --port P [--send TEXT] [--count N] [--parallel N]\n"
	      "                 [--expect-echo] [--no-shutdown] [--timeout-ms N] [--send-bytes N]\n", fp);
}

/* Parses a decimal long in [min, max]; false on anything else. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Microseconds on the monotonic clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds left until deadline_us, at least 0. */
static int ms_left(int64_t deadline_us)
{
	int64_t left = deadline_us - now_us();

	return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* Waits for events on fd until the deadline: >0 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, ms_left(deadline_us));

		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

/* Appends s as a JSON string body (no quotes) to fp, escaping as needed. */
static void json_escape(FILE *fp, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", fp);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
}

/* Formats the socket's local address as "ip:port". */
static void local_name(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";

	snprintf(out, outlen, "?");
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

/* Runs one connection and prints its JSON line; false when it failed. */
static bool one_connection(void)
{
	int64_t start = now_us(), deadline = start + (int64_t)opt.timeout_ms * 1000;
	size_t send_len = strlen(opt.send), sent = 0, kept_len = 0;
	unsigned char *kept = malloc(KEEP_MAX);
	uint64_t received_len = 0, pattern_sent = 0;
	int64_t upload_us = 0;
	struct sha256 sha;
	char digest[65];
	char err[160] = "", eof[160] = "", local[INET6_ADDRSTRLEN + 16] = "?";
	bool connected = false, ok;
	int fd, soerr = 0;
	socklen_t slen = sizeof(soerr);

	sha256_init(&sha);
	if (kept == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	fd = socket(target->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, sizeof(err), "socket: %s", strerror(errno));
		goto out;
	}
	/* Non-blocking connect so the whole connection obeys --timeout-ms. */
	if (connect(fd, target->ai_addr, target->ai_addrlen) < 0 && errno != EINPROGRESS) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		goto close_out;
	}
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		snprintf(err, sizeof(err), "connect timed out");
		goto close_out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr != 0) {
		snprintf(err, sizeof(err), "%s", strerror(soerr != 0 ? soerr : errno));
		goto close_out;
	}
	connected = true;
	local_name(fd, local, sizeof(local));

	while (sent < send_len && eof[0] == '\0') {
		ssize_t w;

		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(eof, sizeof(eof), "timeout");
			break;
		}
		w = send(fd, opt.send + sent, send_len - sent, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			snprintf(eof, sizeof(eof), "%s",
				 (errno == ECONNRESET || errno == EPIPE) ? "reset" : strerror(errno));
		else
			sent += (size_t)w;
	}
	while ((long)pattern_sent < opt.send_bytes && eof[0] == '\0') {
		unsigned char buf[65536];
		size_t n = opt.send_bytes - (long)pattern_sent < 65536 ? (size_t)(opt.send_bytes - (long)pattern_sent) : 65536;
		ssize_t w;

		for (size_t i = 0; i < n; i++) {
			uint64_t k = pattern_sent + i;
			buf[i] = (unsigned char)((k * 131 + (k >> 8) * 7) & 255);
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(eof, sizeof(eof), "timeout");
			break;
		}
		w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			snprintf(eof, sizeof(eof), "%s",
				 (errno == ECONNRESET || errno == EPIPE) ? "reset" : strerror(errno));
		else
			pattern_sent += (uint64_t)w;
	}
	/* Our FIN: the peer reads EOF, we can still read its data. */
	if (eof[0] == '\0' && !opt.no_shutdown)
		shutdown(fd, SHUT_WR);
	upload_us = now_us() - start;
	while (eof[0] == '\0') {
		unsigned char buf[16384];
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			snprintf(eof, sizeof(eof), "timeout");
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			snprintf(eof, sizeof(eof), "%s",
				 errno == ECONNRESET ? "reset" : strerror(errno));
		} else if (n == 0) {
			snprintf(eof, sizeof(eof), "clean");
		} else {
			size_t take = (size_t)n < KEEP_MAX - kept_len ? (size_t)n : KEEP_MAX - kept_len;

			memcpy(kept + kept_len, buf, take);
			kept_len += take;
			received_len += (uint64_t)n;
			sha256_update(&sha, buf, (size_t)n);
		}
	}
close_out:
	close(fd);
out:
	ok = connected && strcmp(eof, "clean") == 0;
	if (ok && opt.expect_echo)
		ok = received_len == send_len && memcmp(kept, opt.send, kept_len) == 0;

	pthread_mutex_lock(&out_lock);
	if (connected) {
		printf("{\"connected\":true,\"local\":\"%s\",\"received\":\"", local);
		json_escape(stdout, kept, kept_len);
		printf("\",\"received_len\":%llu,\"eof\":\"", (unsigned long long)received_len);
		json_escape(stdout, (const unsigned char *)eof, strlen(eof));
		sha256_hex(&sha, digest);
		printf("\",\"elapsed_us\":%lld,\"sent_len\":%llu,\"sha256\":\"%s\",\"upload_us\":%lld}\n",
		       (long long)(now_us() - start), (unsigned long long)(sent + pattern_sent), digest,
		       (long long)upload_us);
	} else {
		printf("{\"connected\":false,\"error\":\"");
		json_escape(stdout, (const unsigned char *)err, strlen(err));
		printf("\",\"elapsed_us\":%lld}\n", (long long)(now_us() - start));
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	free(kept);
	return ok;
}

/* Worker: takes connection numbers until --count are done. */
static void *worker(void *arg)
{
	(void)arg;
	while (atomic_fetch_add(&next_conn, 1) < opt.count)
		if (!one_connection())
			atomic_store(&any_failed, true);
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
		if (strcmp(a, "--expect-echo") == 0) {
			opt.expect_echo = true;
			continue;
		}
		if (strcmp(a, "--no-shutdown") == 0) {
			opt.no_shutdown = true;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "tcpclient: %s needs a value\n", a);
			return false;
		}
		i++;
		if (strcmp(a, "--addr") == 0) {
			opt.addr = v;
		} else if (strcmp(a, "--port") == 0) {
			long p;

			if (!parse_long(v, 1, 65535, &p)) {
				fprintf(stderr, "tcpclient: bad port %s\n", v);
				return false;
			}
			opt.port = v;
		} else if (strcmp(a, "--send") == 0) {
			opt.send = v;
		} else if (strcmp(a, "--count") == 0) {
			if (!parse_long(v, 1, 100000000L, &opt.count)) {
				fprintf(stderr, "tcpclient: bad count %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--parallel") == 0) {
			if (!parse_long(v, 1, 1024, &opt.parallel)) {
				fprintf(stderr, "tcpclient: bad parallel %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--send-bytes") == 0) {
			if (!parse_long(v, 0, 1L << 40, &opt.send_bytes)) {
				fprintf(stderr, "tcpclient: bad byte count %s\n", v);
				return false;
			}
		} else if (strcmp(a, "--timeout-ms") == 0) {
			if (!parse_long(v, 1, 3600000L, &opt.timeout_ms)) {
				fprintf(stderr, "tcpclient: bad timeout %s\n", v);
				return false;
			}
		} else {
			fprintf(stderr, "tcpclient: unknown option %s\n", a);
			return false;
		}
	}
	if (opt.addr == NULL || opt.port == NULL) {
		fprintf(stderr, "tcpclient: --addr and --port are required\n");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	pthread_t *th;
	long i, started = 0;
	int e;

	bool help = false;

	if (!parse_args(argc, argv, &help)) {
		usage(stderr);
		return 2;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	e = getaddrinfo(opt.addr, opt.port, &hints, &target);
	if (e != 0) {
		fprintf(stderr, "tcpclient: %s: %s\n", opt.addr, gai_strerror(e));
		return 1;
	}
	if (opt.parallel > opt.count)
		opt.parallel = opt.count;
	th = calloc((size_t)opt.parallel, sizeof(*th));
	if (th == NULL) {
		fprintf(stderr, "tcpclient: out of memory\n");
		freeaddrinfo(target);
		return 1;
	}
	for (i = 0; i < opt.parallel; i++) {
		if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "tcpclient: pthread_create failed\n");
			atomic_store(&any_failed, true);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	freeaddrinfo(target);
	return atomic_load(&any_failed) ? 1 : 0;
}
