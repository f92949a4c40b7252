#!/usr/bin/env python3
"""po2c.py — turns gettext catalogs into the C table tcplab links in.

    python3 scripts/po2c.py OUT.c po/zh_CN.po        generate the table
    python3 scripts/po2c.py --pot OUT.pot po/zh_CN.po  write the English template

Why not libintl: glibc's gettext() translates nothing in the C locale and
needs a generated zh_CN locale; `tcplab --lang zh` must work on a machine
whose only locale is C.UTF-8.  So the .po (which translators edit) is
compiled into a sorted C array that catalog.c searches with bsearch.

Entries keep the .po meaning: msgctxt (a stable code, used for explanation
templates), msgid (the English source string), msgstr (Chinese), and the
"c-format" flag (msgid is a printf format: catalog.c matches formatted
English text against it to translate messages built with snprintf); an
entry flagged "no-c-format" that holds a conversion is a format too, whose
translation leaves an argument out (msgfmt would reject that, printf could
not do it; catalog.c can).
An empty msgstr or a fuzzy entry is kept as untranslated (English shows);
tests/po/check.py fails on them.  Exit status 1 on a syntax error.
"""
import sys


def unquote(s, where):
    s = s.strip()
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise SystemExit(f"{where}: expected a quoted string")
    out, i, body = [], 0, s[1:-1]
    while i < len(body):
        c = body[i]
        if c == '\\':
            i += 1
            if i >= len(body):
                raise SystemExit(f"{where}: dangling backslash")
            e = body[i]
            out.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r'}.get(e))
            if out[-1] is None:
                raise SystemExit(f"{where}: unknown escape \\{e}")
        else:
            out.append(c)
        i += 1
    return ''.join(out)


def parse(path):
    entries, cur, field, flags = [], {}, None, set()
    lines = open(path, encoding='utf-8').read().split('\n')

    def flush():
        nonlocal cur, flags
        if 'msgid' in cur:
            cur['flags'] = flags
            entries.append(cur)
        elif cur:
            raise SystemExit(f"{path}: entry without msgid")
        cur, flags = {}, set()

    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        st = line.strip()
        if st == '':
            continue
        if st.startswith('#,'):
            if 'msgid' in cur:
                flush()
            flags |= {f.strip() for f in st[2:].split(',')}
            continue
        if st.startswith('#'):
            continue
        for kw in ('msgctxt', 'msgid', 'msgstr'):
            if st.startswith(kw + ' '):
                if kw in ('msgctxt',) or (kw == 'msgid' and 'msgid' in cur):
                    if 'msgid' in cur:
                        flush()
                if kw in cur:
                    raise SystemExit(f"{where}: second {kw} in one entry")
                field = kw
                cur[kw] = unquote(st[len(kw):], where)
                break
        else:
            if st.startswith('"') and field:
                cur[field] += unquote(st, where)
            else:
                raise SystemExit(f"{where}: cannot parse: {st[:40]}")
    flush()
    return entries


def cstr(s):
    if s is None:
        return 'NULL'
    out = []
    for ch in s:
        if ch == '\\':
            out.append('\\\\')
        elif ch == '"':
            out.append('\\"')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\t':
            out.append('\\t')
        elif ord(ch) < 0x20:
            out.append('\\%03o' % ord(ch))
        else:
            out.append(ch)
    return '"' + ''.join(out) + '"'


def main():
    args = sys.argv[1:]
    pot = args and args[0] == '--pot'
    if pot:
        args = args[1:]
    if len(args) != 2:
        raise SystemExit(__doc__)
    out, src = args
    entries = [e for e in parse(src) if e['msgid'] != '']   # drop the header entry
    seen = set()
    for e in entries:
        key = (e.get('msgctxt'), e['msgid'])
        if key in seen:
            raise SystemExit(f"{src}: duplicate entry {key}")
        seen.add(key)
    if pot:
        with open(out, 'w', encoding='utf-8') as f:
            f.write('# tcplab message template (generated from po/zh_CN.po by scripts/po2c.py --pot)\n')
            f.write('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n')
            for e in entries:
                if e['flags'] - {'fuzzy'}:
                    f.write('#, ' + ', '.join(sorted(e['flags'] - {'fuzzy'})) + '\n')
                if 'msgctxt' in e:
                    f.write('msgctxt ' + cstr(e['msgctxt']) + '\n')
                f.write('msgid ' + cstr(e['msgid']) + '\nmsgstr ""\n\n')
        return
    # sorted by (context or "", msgid) in byte order: catalog.c uses strcmp
    entries.sort(key=lambda e: ((e.get('msgctxt') or '').encode(), e['msgid'].encode()))
    with open(out, 'w', encoding='utf-8') as f:
        f.write('/* Generated from %s by scripts/po2c.py: do not edit. */\n' % src)
        f.write('#include "catalog_data.h"\n\n')
        f.write('const struct catalog_entry catalog_entries[] = {\n')
        for e in entries:
            tr = e.get('msgstr', '')
            if tr == '' or 'fuzzy' in e['flags']:
                tr = None
            # "no-c-format" with a conversion: a format whose translation drops an
            # argument, which msgfmt cannot check; tcplab matches it all the same
            fmt = 'c-format' in e['flags'] or ('no-c-format' in e['flags'] and '%' in e['msgid'])
            f.write('\t{ %s, %s, %s, %d },\n' % (cstr(e.get('msgctxt') or ''), cstr(e['msgid']), cstr(tr),
                                                  1 if fmt else 0))
        f.write('};\n')
        f.write('const unsigned catalog_entry_count = %d;\n' % len(entries))


main()
