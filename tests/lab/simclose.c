/*
 * simclose.c — a simultaneous close (RFC 9293 §3.6, case 2; Figure 13)
 * between two real kernel TCP sockets, for scripts/make-captures.sh and the
 * simultaneous-close demo.
 *
 *   simclose CLIENT_NETNS SERVER_NETNS SERVER_ADDR PORT
 *
 * The namespaces are given as names under /run/netns (ip netns add).  One
 * process holds both ends: the listening socket is created in the server
 * namespace and the connecting socket in the client namespace (setns()
 * before socket(): a socket stays in the namespace it was created in), so
 * the packets still cross the veth pair between the namespaces.
 *
 * The client sends "hello\n", the server reads it and answers "bye\n", and
 * then two threads, one pinned to each of two CPUs, meet at a spin barrier
 * and call shutdown(SHUT_WR) at the same instant.  On a veth pair a FIN
 * arrives a few microseconds after it leaves, so whether the FINs cross
 * (each sent before the other is received: FIN-WAIT-1 → CLOSING on both
 * sides) is a race: the caller checks the capture and runs this again until
 * it shows crossed FINs.  Each thread then reads to end of file and closes.
 *
 * Exit status 0 when both ends saw a clean end of file, 1 on any failure
 * (one sentence on stderr), 2 on a bad command line.  Needs CAP_SYS_ADMIN
 * (setns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
	const char *name;   /* "client" or "server", for messages */
	int fd;
	int cpu;            /* CPU the thread is pinned to (-1: not pinned) */
	bool ok;            /* read a clean end of file after its shutdown */
};

static atomic_int arrived, realtime;   /* the closers' two spin barriers */

/* Counts this thread in and spins until both closers are in. */
static void barrier(atomic_int *count)
{
	atomic_fetch_add_explicit(count, 1, memory_order_acq_rel);
	while (atomic_load_explicit(count, memory_order_acquire) < 2)
		;
}

/* Enters the network namespace /run/netns/name.  0 ok, -1 with a message. */
static int enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "simclose: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "simclose: setns %s: %s\n", path, strerror(errno));
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

/* Reads exactly n bytes (or fails); 0 ok, -1 on error or early end. */
static int read_exact(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Thread body: waits for the shared flag, half-closes, reads to EOF. */
static void *closer(void *arg)
{
	struct end *e = arg;
	char buf[256];
	ssize_t r;

	if (e->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(e->cpu, &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* Two spin barriers, no main thread involved: both closers arrive
	 * (time-shared), both switch to real-time priority so that no other
	 * process preempts them between the barrier and the FIN (on a busy
	 * machine that spoilt the race: the other FIN arrived first), both
	 * arrive again, and both call shutdown() within the ~100 ns a cache
	 * line takes to cross.  Spin rather than block: a futex wake-up
	 * would put tens of microseconds between the two shutdown() calls.
	 * The real-time spin lasts as long as the other thread's
	 * sched_setscheduler(): microseconds.  Best effort without
	 * CAP_SYS_NICE. */
	barrier(&arrived);
	{
		struct sched_param sp = { .sched_priority = 10 };
		(void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	barrier(&realtime);
	if (shutdown(e->fd, SHUT_WR) < 0) {
		fprintf(stderr, "simclose: %s: shutdown: %s\n", e->name, strerror(errno));
		return NULL;
	}
	while ((r = read(e->fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "simclose: %s: read: %s\n", e->name, strerror(errno));
			return NULL;
		}
		fprintf(stderr, "simclose: %s: unexpected data after the exchange\n", e->name);
		return NULL;
	}
	e->ok = true;
	return NULL;
}

/* Sets up both ends, exchanges the greeting, then lets the two closer
 * threads go at once.  Exit status as in the header comment. */
int main(int argc, char **argv)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct end ends[2] = { { "client", -1, 0, false }, { "server", -1, 1, false } };
	pthread_t th[2];
	char buf[16];
	int lfd, one = 1, port;
	struct timespec settle = { 0, 100 * 1000 * 1000 };

	if (argc != 5 || (port = atoi(argv[4])) <= 0 || port > 65535 ||
	    make_addr(argv[3], port, &sa, &salen) < 0) {
		fprintf(stderr, "usage: simclose CLIENT_NETNS SERVER_NETNS SERVER_ADDR PORT\n");
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ends[0].cpu = ends[1].cpu = -1;

	if (enter_netns(argv[2]) < 0)
		return 1;
	lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, salen) < 0 || listen(lfd, 1) < 0) {
		fprintf(stderr, "simclose: listen on %s port %d: %s\n", argv[3], port, strerror(errno));
		return 1;
	}
	if (enter_netns(argv[1]) < 0)
		return 1;
	ends[0].fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ends[0].fd < 0 || connect(ends[0].fd, (struct sockaddr *)&sa, salen) < 0) {
		fprintf(stderr, "simclose: connect to %s port %d: %s\n", argv[3], port, strerror(errno));
		return 1;
	}
	ends[1].fd = accept(lfd, NULL, NULL);
	if (ends[1].fd < 0) {
		fprintf(stderr, "simclose: accept: %s\n", strerror(errno));
		return 1;
	}
	close(lfd);

	/* A short exchange so the trace has data both ways before the close. */
	if (write(ends[0].fd, "hello\n", 6) != 6 || read_exact(ends[1].fd, buf, 6) < 0 ||
	    write(ends[1].fd, "bye\n", 4) != 4 || read_exact(ends[0].fd, buf, 4) < 0) {
		fprintf(stderr, "simclose: the exchange before the close failed: %s\n", strerror(errno));
		return 1;
	}
	/* Let the ACKs of the exchange go out, so the FINs are the next
	 * segments on the wire. */
	nanosleep(&settle, NULL);

	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, closer, &ends[i]) != 0) {
			fprintf(stderr, "simclose: pthread_create failed\n");
			return 1;
		}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	close(ends[0].fd);
	close(ends[1].fd);
	return ends[0].ok && ends[1].ok ? 0 : 1;
}
