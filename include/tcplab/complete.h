/*
 * complete.h — what shell completion asks the binary (`tcplab --complete`),
 * so that the bash and zsh scripts hard-code no option, value or demo: they
 * follow the option table in src/main.c as other options are added.
 *
 * This module is pure (no I/O): it turns an option's argument name and help
 * text into the list of values it accepts.  The convention it reads: an
 * option that takes one of a fixed set of words writes them as a|b|c, in
 * its argument name ("en|zh") or in its help text ("client|server|rst|none:
 * who closes ..."; "HOW: client|server"); the first such run counts.
 */
#ifndef TCPLAB_COMPLETE_H
#define TCPLAB_COMPLETE_H

#include <stddef.h>

/*
 * Writes the values of an option, one per line ('\n' after each), into out
 * (len bytes, always NUL-terminated when len > 0), from arg (may be NULL)
 * or, when arg has no '|' run, from help (may be NULL).  A value is a run
 * of letters, digits, '_' and '-'; at least two joined by '|' make a list.
 * Returns how many values were written (0: the option takes free text or no
 * argument), or -1 when out is too small (out then holds "").
 */
int complete_values(const char *arg, const char *help, char *out, size_t len);

#endif
