/*
 * session_listen.c — `tcplab listen`: the server role, by hand.
 */
#include <stdio.h>

#include "tcplab/exitcode.h"
#include "tcplab/session.h"

int session_listen(const struct listen_options *opt, struct renderer *r, char errbuf[SESSION_ERRBUF_SIZE])
{
	(void)opt;
	(void)r;
	snprintf(errbuf, SESSION_ERRBUF_SIZE, "listen is not implemented yet");
	return TCPLAB_EXIT_ERROR;
}
