/*
 * exitcode.h — the one list of tcplab's process exit codes.
 *
 * Only main() turns these into an exit status; every other module returns
 * 0 / negative and leaves the decision to its caller.  The numbers are part of
 * the user interface: README.md and man/tcplab.1 document them, scripts and
 * autograders rely on them, so never renumber.
 */
#ifndef TCPLAB_EXITCODE_H
#define TCPLAB_EXITCODE_H

enum tcplab_exit {
	TCPLAB_EXIT_OK         = 0, /* connection completed (or left open as asked); replay read the input */
	TCPLAB_EXIT_ERROR      = 1, /* a system or library call failed (message says which) */
	TCPLAB_EXIT_USAGE      = 2, /* bad command line */
	TCPLAB_EXIT_REFUSED    = 3, /* the peer answered our SYN with RST */
	TCPLAB_EXIT_RESET      = 4, /* the connection was reset after it was established */
	TCPLAB_EXIT_TIMEOUT    = 5, /* no answer after every retransmission */
	TCPLAB_EXIT_PERMISSION = 6, /* missing CAP_NET_RAW / CAP_NET_ADMIN */
	TCPLAB_EXIT_BAD_INPUT  = 7, /* replay: not a capture, unreadable, or truncated file */
	TCPLAB_EXIT_NETWORK    = 8, /* host cannot be resolved, no route, or port already in use */
	TCPLAB_EXIT_INTERRUPTED = 130, /* stopped by SIGINT/SIGTERM/SIGHUP after cleaning up */
};

#endif
