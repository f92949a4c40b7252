/*
 * catalog_data.h — the compiled message catalog (generated into
 * build/gen/catalog_data.c from po/zh_CN.po by scripts/po2c.py).  Only
 * catalog.c and the catalog tests read it.
 */
#ifndef TCPLAB_CATALOG_DATA_H
#define TCPLAB_CATALOG_DATA_H

struct catalog_entry {
	const char *ctxt;      /* msgctxt, "" when none */
	const char *id;        /* msgid: the English source string */
	const char *zh;        /* msgstr, NULL when untranslated or fuzzy */
	int c_format;          /* msgid is a printf format */
};

/* Sorted by (ctxt, id) with strcmp. */
extern const struct catalog_entry catalog_entries[];
extern const unsigned catalog_entry_count;

#endif
