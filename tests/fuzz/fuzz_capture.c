/*
 * fuzz_capture.c — libFuzzer harness for the capture reader: a whole file
 * through replay's path (capture_open_file → pcap / pcapng / gzip →
 * decode → flow → text or JSON, as `tcplab replay FILE` runs it).
 *
 * The input is written to a memfd and replayed by name; its last byte is
 * also read as options (odd: --json; & 2: --summary; & 4: a filter).
 * The output goes to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcplab/exitcode.h"
#include "tcplab/render.h"
#include "tcplab/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct render_options ro = { .show_conn = true };
	struct replay_options opt;
	char path[64], err[REPLAY_ERRBUF_SIZE];
	struct renderer *r;
	int fd, rc;
	uint8_t o = size > 0 ? data[size - 1] : 0;

	if (size > 1 << 20)
		return 0;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	fd = memfd_create("fuzz-capture", 0);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&opt, 0, sizeof(opt));
	opt.path = path;
	opt.summary_only = ro.summary_only = o & 2;
	opt.filter = (o & 4) ? "tcp" : NULL;
	r = (o & 1) ? render_json_new(devnull, &ro) : render_text_new(devnull, &ro);
	if (r == NULL) {
		close(fd);
		return 0;
	}
	err[0] = '\0';
	rc = replay_run(&opt, r, err);
	render_finish(r);
	render_destroy(r);
	close(fd);
	/* a documented exit code, and a sentence with every failure */
	if (rc != TCPLAB_EXIT_OK && rc != TCPLAB_EXIT_BAD_INPUT && rc != TCPLAB_EXIT_ERROR)
		abort();
	if (rc != TCPLAB_EXIT_OK && strlen(err) < 10)
		abort();
	return 0;
}
