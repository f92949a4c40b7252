/*
 * simopen.c — a simultaneous open (RFC 9293 §3.5, Figure 12) between two
 * real kernel TCP sockets, for scripts/make-captures.sh (ks-simultaneous-open).
 *
 *   simopen CLIENT_NETNS SERVER_NETNS CLIENT_ADDR SERVER_ADDR PORT
 *
 * One socket in each namespace (setns() before socket()), each bound to
 * ADDR:PORT of its side, and two threads, one pinned to each of two CPUs,
 * that spin on one shared flag and then connect() each to the other at the
 * same instant.  On a veth pair the SYN is delivered inside the sending
 * system call, so whether the SYNs cross (each end in SYN-SENT when the
 * other's SYN arrives: both go SYN-RECEIVED, then ESTABLISHED) is a race:
 * the caller checks the capture for two SYNs without ACK and runs this
 * again until it shows them.  Then the first end closes, the second reads
 * end of file and closes.
 *
 * Exit status 0 when both connect()s succeeded, 1 on any failure (one
 * sentence on stderr), 2 on a bad command line.  Needs CAP_SYS_ADMIN (setns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct end {
	const char *name;
	int fd;
	int cpu;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	bool ok;
};

static atomic_int go;

/* Enters the network namespace /run/netns/name.  0 ok, -1 with a message. */
static int enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "simopen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "simopen: setns %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Fills sa (IPv4 or IPv6) from a numeric address and port; 0 ok, -1 bad. */
static int make_addr(const char *addr, int port, struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* Thread body: waits for the flag, connects (non-blocking), waits for the
 * outcome. */
static void *opener(void *arg)
{
	struct end *e = arg;
	struct pollfd pfd;
	int err = 0;
	socklen_t len = sizeof(err);

	if (e->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(e->cpu, &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	if (connect(e->fd, (struct sockaddr *)&e->peer, e->peerlen) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "simopen: %s: connect: %s\n", e->name, strerror(errno));
		return NULL;
	}
	pfd.fd = e->fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 10000) != 1 || getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		fprintf(stderr, "simopen: %s: connect failed: %s\n", e->name, strerror(err ? err : ETIMEDOUT));
		return NULL;
	}
	e->ok = true;
	return NULL;
}

/* Opens one socket in namespace ns bound to addr:port. */
static int bound_socket(const char *ns, const char *addr, int port)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, one = 1;

	if (enter_netns(ns) < 0 || make_addr(addr, port, &sa, &salen) < 0)
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) < 0) {
		fprintf(stderr, "simopen: bind %s port %d: %s\n", addr, port, strerror(errno));
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct end ends[2] = { { .name = "client", .cpu = 0 }, { .name = "server", .cpu = 1 } };
	pthread_t th[2];
	struct timespec settle = { 0, 100 * 1000 * 1000 };
	char buf[16];
	int port;

	if (argc != 6 || (port = atoi(argv[5])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: simopen CLIENT_NETNS SERVER_NETNS CLIENT_ADDR SERVER_ADDR PORT\n");
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ends[0].cpu = ends[1].cpu = -1;
	/* the client end uses PORT + 1, the server end PORT */
	ends[1].fd = bound_socket(argv[2], argv[4], port);
	ends[0].fd = bound_socket(argv[1], argv[3], port + 1);
	if (ends[0].fd < 0 || ends[1].fd < 0 ||
	    make_addr(argv[4], port, &ends[0].peer, &ends[0].peerlen) < 0 ||
	    make_addr(argv[3], port + 1, &ends[1].peer, &ends[1].peerlen) < 0)
		return 1;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, opener, &ends[i]) != 0) {
			fprintf(stderr, "simopen: pthread_create failed\n");
			return 1;
		}
	nanosleep(&settle, NULL);
	atomic_store_explicit(&go, 1, memory_order_release);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (!ends[0].ok || !ends[1].ok)
		return 1;
	/* the client end closes first; the other reads end of file, then closes */
	nanosleep(&settle, NULL);
	close(ends[0].fd);
	{
		struct pollfd pfd = { .fd = ends[1].fd, .events = POLLIN };
		if (poll(&pfd, 1, 5000) == 1)
			(void)read(ends[1].fd, buf, sizeof(buf));
	}
	nanosleep(&settle, NULL);
	close(ends[1].fd);
	return 0;
}
