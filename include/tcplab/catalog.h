/*
 * catalog.h — the message catalog: every human-facing sentence tcplab prints,
 * in English (the source strings) and Chinese, chosen once per run.
 *
 * The strings live in po/zh_CN.po (gettext's format: a translator edits it
 * without reading C); scripts/po2c.py compiles it into a C table at build
 * time, so `--lang zh` needs no generated zh_CN locale and no libintl.
 *
 * Three kinds of entries:
 *  - plain:      msgid = an English sentence the code prints (a state-change
 *                reason, a note, a label); catalog_tr() returns its Chinese;
 *  - c-format:   msgid = a printf format; catalog_tr() also translates text
 *                that was formatted from it (the numbers and names are
 *                carried over; an argument that is itself a plain entry,
 *                such as "client", is translated too), so messages built
 *                with snprintf elsewhere translate without that code
 *                knowing about languages;
 *  - coded:      msgctxt = a stable code ("explain.hs1"), msgid = an English
 *                template with {name} placeholders; catalog_code() returns
 *                the template in the current language, catalog_format()
 *                fills it in.  Explanations are looked up this way, so no
 *                renderer writes a sentence of its own.
 *
 * The language is process-wide (like setlocale): main() sets it once from
 * --lang or the environment before anything is printed.  Lookups never
 * allocate; English lookups return their argument at no cost.
 *
 * How many columns a translation takes on a terminal is textwidth.h's
 * business (tw_width), the one display-width implementation.
 */
#ifndef TCPLAB_CATALOG_H
#define TCPLAB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cat_lang { CAT_EN = 0, CAT_ZH = 1 };

/*
 * The language the environment asks for: the first non-empty of LC_ALL,
 * LC_MESSAGES, LANG (POSIX precedence); a value starting with "zh" selects
 * Chinese, anything else (C, POSIX, en_US.UTF-8, unset) English.  Whether
 * that locale is installed does not matter.
 */
enum cat_lang catalog_lang_from_env(void);

/* Parses a --lang value: "en", "zh" (also "zh_CN", "zh-CN", "cn", "chinese");
 * 0 ok, -1 otherwise. */
int catalog_lang_parse(const char *s, enum cat_lang *out);

/* Sets / returns the process-wide language (default CAT_EN). */
void catalog_set_lang(enum cat_lang lang);
enum cat_lang catalog_lang(void);

/*
 * Translation of `english` in the current language: the same pointer in
 * English or when the catalog has no translation; otherwise a static
 * string, or (for text formatted from a c-format entry) the translation
 * written into a small rotating static buffer that stays valid for the
 * next 7 calls.  NULL-safe.
 */
const char *catalog_tr(const char *english) __attribute__((format_arg(1)));

/* Like catalog_tr for a chosen language (tests, and JSON which stays English). */
const char *catalog_tr_lang(enum cat_lang lang, const char *english) __attribute__((format_arg(2)));

/*
 * The text of the coded entry `code` (msgctxt) in the current language: the
 * Chinese msgstr, or the English msgid when untranslated or in English.
 * NULL when the catalog has no such code.
 */
const char *catalog_code(const char *code);
const char *catalog_code_lang(enum cat_lang lang, const char *code);

/*
 * Fills a template's {name} placeholders from the NULL-terminated list of
 * name, value pairs into buf (always terminated, cut at size); an unknown
 * name is left as written.  Returns the length written.
 */
size_t catalog_format(char *buf, size_t size, const char *tmpl, const char *const *pairs);

/*
 * fprintf(f, fmt, ...) in the current language: the English text is
 * formatted first, then translated as a whole through a c-format entry
 * whose msgid is fmt (so the translation may drop or reorder arguments,
 * e.g. an English plural "s").  Returns what fputs returns.
 */
int catalog_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
