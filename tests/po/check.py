#!/usr/bin/env python3
"""check.py — the message catalog is complete.

Fails (exit 1, one line per problem) when
  - an entry of po/zh_CN.po has no Chinese translation (empty or fuzzy);
  - a translation's placeholders differ from its msgid's: {name} in the
    explanation templates, printf conversions in c-format entries (a
    translation may reorder them with %N$ and may leave some out, but may
    not use one the English does not have);
  - a human-facing string in the sources is not in the catalog: the state
    change reasons of src/tcp_fsm.c, the annotations and endings of
    src/flow.c, the T() texts of src/render_text.c, the labels of
    src/header_view.c, the help, usage errors and messages of src/main.c
    and src/replay.c, the texts of src/render_ladder.c and src/render_svg.c
    (and the palette words of its legend), every analysis mark of
    src/analysis.c ("mark." + its JSON name), every summary counter of
    src/side_counters.c ("%u one" / "%u many"), the notes of src/kstates.c
    (src/session_*.c and src/live.c are not checked yet);
  - an explanation step the explainer can produce has no ".what" entry.

Run: python3 tests/po/check.py  (also run by the unit test test_catalog).
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

LIT = r'"(?:[^"\\]|\\.)*"'
LITS = LIT + r'(?:\s*' + LIT + r')*'


def parse_po(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('po2c', os.path.join(ROOT, 'scripts', 'po2c.py'))
    src = open(os.path.join(ROOT, 'scripts', 'po2c.py')).read()
    src = src.replace('\nmain()\n', '\n')          # import without running
    mod = {}
    exec(compile(src, 'po2c.py', 'exec'), mod)
    return mod['parse'](path)


def c_unescape(lits):
    out = ''
    for m in re.finditer(LIT, lits):
        body = m.group(0)[1:-1]
        out += bytes(body, 'utf-8').decode('unicode_escape').encode('latin-1').decode('utf-8')
    return out


def strip_comments(src):
    src = re.sub(r'/\*.*?\*/', lambda m: ' ' * 0, src, flags=re.S)
    return re.sub(r'//[^\n]*', '', src)


def conversions(fmt):
    """printf conversions in order, '%%' excluded: list of (position or None, conv)."""
    out = []
    for m in re.finditer(r'%(?:(\d+)\$)?[-+ #0]*[\d.*]*(?:hh|h|ll|l|L|q|j|z|t)?([a-zA-Z%])', fmt):
        if m.group(2) == '%':
            continue
        out.append((int(m.group(1)) if m.group(1) else None, m.group(2)))
    return out


def main():
    problems = []
    entries = [e for e in parse_po(os.path.join(ROOT, 'po', 'zh_CN.po')) if e['msgid'] != '']
    ids = set()
    codes = set()
    for e in entries:
        key = e.get('msgctxt') or e['msgid']
        if 'msgctxt' in e:
            codes.add(e['msgctxt'])
        else:
            ids.add(e['msgid'])
        tr = e.get('msgstr', '')
        if tr == '' or 'fuzzy' in e['flags']:
            problems.append(f'no Chinese translation: {key!r}')
            continue
        if 'msgctxt' in e:
            a = sorted(set(re.findall(r'\{(\w+)\}', e['msgid'])))
            b = sorted(set(re.findall(r'\{(\w+)\}', tr)))
            if not set(b) <= set(a):
                problems.append(f'placeholders {b} not in the English {a}: {key!r}')
        if 'c-format' in e['flags'] or 'no-c-format' in e['flags']:
            src = conversions(e['msgid'])
            dst = conversions(tr)
            n = len(src)
            nxt = 0
            for pos, conv in dst:
                idx = pos - 1 if pos else nxt
                nxt = idx + 1
                if idx >= n:
                    problems.append(f'conversion %{idx + 1} beyond the {n} of the English: {key!r}')
                    break
        elif re.search(r'%[-+ #0\d.]*(?:l|ll|z)?[sducxf]', e['msgid']) and 'msgctxt' not in e:
            if e['msgid'] not in ('%',):
                problems.append(f'looks like a printf format but is not marked c-format: {key!r}')

    def need(text, where):
        if text and text not in ids:
            problems.append(f'not in the catalog ({where}): {text!r}')

    def src(name):
        return strip_comments(open(os.path.join(ROOT, 'src', name), encoding='utf-8').read())

    # tcp_fsm.c: every literal after the state names is a reason
    fsm = src('tcp_fsm.c')
    fsm = fsm[fsm.index('tcp_endpoint_init'):]
    for m in re.finditer(LIT, fsm):
        need(c_unescape(m.group(0)), 'tcp_fsm.c')
    # flow.c: annotations, reasons, endings
    flow = src('flow.c')
    for m in re.finditer(r'(?:return|annotation =|reason =|\?|:)\s*(' + LITS + ')', flow):
        t = c_unescape(m.group(1))
        if ' ' in t and '%' not in t:
            need(t, 'flow.c')
    for m in re.finditer(r'emit_state\([^;]*?(' + LITS + r')\s*\)', flow, re.S):
        need(c_unescape(m.group(1)), 'flow.c')
    # render_text.c: T("...")
    for m in re.finditer(r'\bT\((' + LITS + r')\)', src('render_text.c')):
        need(c_unescape(m.group(1)), 'render_text.c')
    # header_view.c: catalog_tr("...") and field labels and option names
    hv = src('header_view.c')
    for m in re.finditer(r'catalog_tr\((' + LITS + r')\)', hv):
        need(c_unescape(m.group(1)), 'header_view.c')
    for m in re.finditer(r'field\(&?h, (' + LIT + r')', hv):
        need(c_unescape(m.group(1)), 'header_view.c')
    for m in re.finditer(r'return (' + LIT + r');', hv[hv.index('option_name'):hv.index('static void options')]):
        need(c_unescape(m.group(1)), 'header_view.c')
    # main.c: help, command descriptions, usage errors, messages
    mc = src('main.c')
    for m in re.finditer(r'^\t\{ "[^"]+", [^\n]*?, (' + LIT + r') \},$', mc, re.M):
        need(c_unescape(m.group(1)), 'main.c')
    for pat in (r'usage_error\([^,]+, (' + LITS + ')', r'catalog_fprintf\(\w+, (' + LITS + ')',
                r'catalog_tr\((' + LITS + r')\)'):
        for m in re.finditer(pat, mc):
            need(c_unescape(m.group(1)), 'main.c')
    rp = src('replay.c')
    for m in re.finditer(r'catalog_fprintf\(\w+, (' + LITS + ')', rp):
        need(c_unescape(m.group(1)), 'replay.c')
    # flow.c: the corrections of an inference (emit_correction)
    for m in re.finditer(r'emit_correction\([^;]*?(' + LITS + r')\s*\)', flow, re.S):
        need(c_unescape(m.group(1)), 'flow.c')
    # render_ladder.c and render_svg.c: catalog_tr("...") / L("...") texts,
    # and the coded legend words LC("legend.x", "...")
    for name, pat in (('render_ladder.c', r'catalog_tr\((' + LITS + r')\)'),
                      ('render_svg.c', r'\bL\((' + LITS + r')\)')):
        for m in re.finditer(pat, src(name)):
            need(c_unescape(m.group(1)), name)
    svg = src('render_svg.c')
    for m in re.finditer(r'\bLC\((' + LIT + r'),', svg):
        if c_unescape(m.group(1)) not in codes:
            problems.append(f'no catalog entry for the SVG word {c_unescape(m.group(1))!r}')
    # render_svg.c: the English formats it translates after formatting
    # (tr_in_place), and the palette's words (legend.WORD)
    for m in re.finditer(r'snprintf\((\w+), sizeof\(\1\), (' + LITS + r')[^;]*;\s*tr_in_place', svg):
        need(c_unescape(m.group(2)), 'render_svg.c')
    pal = src('palette.c')
    for fn in ('palette_mark_name', 'palette_phase_name'):
        body = pal[pal.index(fn):]
        body = body[:body.index('\n}')]
        for m in re.finditer(r'return (' + LIT + r');', body):
            w = c_unescape(m.group(1))
            if w not in ('SYN', 'FIN', 'RST', 'ACK') and 'legend.' + w not in codes:
                problems.append(f'no catalog entry legend.{w} (palette.c {fn})')
    # analysis.c: every mark's text, under "mark." + its JSON name
    an = src('analysis.c')
    for m in re.finditer(r'\{ TL_MARK_\w+, (' + LIT + r'), (' + LIT + r') \}', an):
        if 'mark.' + c_unescape(m.group(1)) not in codes:
            problems.append(f'no catalog entry mark.{c_unescape(m.group(1))} (analysis.c)')
    # side_counters.c: "%u one" and "%u many" for every summary counter
    for m in re.finditer(r'\{ "\w+", A\(\w+\), (' + LIT + r'), (' + LIT + r'),', src('side_counters.c')):
        for g in m.groups():
            t = '%u ' + c_unescape(g)
            if not any(i == t or i.startswith(t + ' (') for i in ids):
                problems.append(f'not in the catalog (side_counters.c): {t!r}')
    # kstates.c: the notes it formats (translated by the text renderer)
    for m in re.finditer(r'snprintf\((?:note|text), sizeof\((?:note|text)\), (' + LITS + r')', src('kstates.c')):
        need(c_unescape(m.group(1)), 'kstates.c')
    # explain.c: every step classify() returns has its ".what"
    ex = src('explain.c')
    body = ex[ex.index('static const char *classify'):ex.index('static void record')]
    for m in re.finditer(r'return (?:[^;]*?\? )?(' + LIT + r')(?: : (' + LIT + r'))?;', body):
        for g in m.groups():
            if g:
                step = c_unescape(g)
                if f'explain.{step}.what' not in codes:
                    problems.append(f'explanation step without a catalog entry: explain.{step}.what')
    # gettext's own checker, when installed (package gettext): what Poedit
    # and other translators' tools will say about the file
    import shutil
    import subprocess
    if shutil.which('msgfmt'):
        r = subprocess.run(['msgfmt', '--check', '-o', os.devnull, os.path.join(ROOT, 'po', 'zh_CN.po')],
                           capture_output=True, text=True)
        if r.returncode != 0:
            problems.append('msgfmt --check: ' + r.stderr.strip().replace('\n', ' | '))
    for p in problems:
        print('po-check: ' + p)
    print(f'po-check: {len(entries)} entries, {len(problems)} problems')
    return 1 if problems else 0


sys.exit(main())
