#!/usr/bin/env python3
"""Golden data for the WordPiece tokenizer in src/embed/, produced by the reference implementation.

Usage:
  pip install tokenizers
  python3 scripts/gen-tokenizer-fixtures.py [--tokenizer PATH] [--tables]

Writes test/fixtures/embed/tokenizer-golden.json:
  cases       ids (with [CLS]/[SEP]) and tokens for hand-picked strings
  variants    ids under other normalizer settings and added-token options
  truncation  ids when truncated to a maximum length (specials included)
  sweep       per 256-code-point block of planes 0-3 and 14, hashes of the pre-tokenized pieces and of
              the ids of "x<c0> x<c1> ...": a cheap exhaustive check of the character classes
With --tables it also regenerates src/embed/bert-unicode-tables.ts: the Unicode classes that HF
tokenizers uses (its own, older Unicode data), so our results do not depend on Node's ICU version.
"""
import argparse
import hashlib
import json
import os
from importlib.metadata import version

from tokenizers import Tokenizer, normalizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TOKENIZER = os.path.join(
    ROOT, '.cache', 'models', 'bge-small-en-v1.5-q', 'bge-small-en-v1.5-q-tokenizer.json')

LONG_PROSE = ' '.join([
    'Retrieval-augmented generation combines a retriever, which selects passages from a corpus,',
    'with a generator that conditions its answer on those passages.',
] * 40)

CASES = [
    'Hello, world!',
    'The quick brown fox jumps over the lazy dog.',
    'Knowledge teams submit documents; durable workflows parse, chunk, embed and index them, '
    'and employees ask questions over an HTTP API.',
    'IL-6 and TNF-α levels (p < 0.05)',
    'CRISPR-Cas9–mediated knockout of BRCA1 in HEK293T cells (n=3; mean ± SD).',
    "β-lactamase inhibitors, e.g., clavulanic acid; 5'-UTR and 3′-end.",
    'H₂O, CO₂, Fe³⁺, 10⁻⁶ M at 37 °C; 5 µm vs 5 μm.',
    'In 2023, revenue grew 12.5% to $3,400,000.00 (≈€3.1M).',
    '1,000,000 3.14159 1e-10 0x1F 50% #42 @home',
    'café naïve Ångström résumé Zoë coöperate',
    'ÉCOLE NORMALE SUPÉRIEURE — Über Straße Größe ẞ',
    'e\u0301 vs \u00e9; a\u0308 and n\u0303; q\u0323\u0307 stacked marks',
    '我爱自然语言处理。',
    '東京は日本の首都です。カタカナ ひらがな',
    '한국어 텍스트 처리',
    'مرحبا بالعالم',
    'שלום עולם',
    'नमस्ते दुनिया',
    'สวัสดีครับ',
    'Привет, мир! ЁЖИК',
    'ΟΔΟΣ Σίσυφος αβγ ΣΣ',
    'İstanbul ıĞ',
    'Tiếng Việt có dấu',
    'I love pizza 🍕🍕! 👍🏽 👨‍👩‍👧 🥲 🫠 🪿',
    '∑ x² ± √2 ≤ ∞ → ∂f/∂x',
    '«quoted» „German“ ‘single’ — em-dash … ellipsis ¿Qué? ¡Sí!',
    'ＡＢＣ１２３ ｆｕｌｌｗｉｄｔｈ ﬁnance ﬂow Ⅻ ① ㎞',
    'a' * 150,
    'pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious',
    'Ab' * 50 + ' ' + 'Ab' * 51,
    'tab\there\nnewline\r\nCR\u0000NUL\u0007bell\u001bESC\ufffdreplacement\u007fDEL',
    'zero\u200bwidth\u200djoiner\ufeffbom\u00adsoft\u2060wj',
    '  leading and trailing  \u00a0nbsp\u2003emspace\u3000ideographic\u2028ls\u0085nel ',
    'a\tb\u000bc\u000cd\u001ce\u001ff',
    '',
    '   \t\n  ',
    'https://example.com/path?q=1&x=y#frag user@example.org',
    'function f(x) { return x**2 + 1; } // comment <b>bold</b> [a](b) `code` ~tilde^caret|pipe\\',
    "don't won’t rock'n'roll state-of-the-art",
    '[CLS] literal [SEP] and [MASK] [UNK] [PAD] tokens; a[SEP]b',
    '[cls] lowercase brackets [ SEP ]',
    '\ue000 private use \U000f0000 and unassigned \u0378 here',
    'Ancient 𐎀𐎁 cuneiform 𒀀 and math 𝐀𝐁𝐂 𝔸',
    LONG_PROSE,
]

# Variants of the tokenizer.json: other BertNormalizer settings and added-token options, checked on
# strings that tell them apart. The test applies the same changes to the JSON before loading it.
VARIANT_TEXTS = [
    'café naïve Ångström ÉCOLE Straße İstanbul ΟΔΟΣ',
    'e\u0301 a\u0308 我爱自然语言处理 東京',
    'tab\there\u0000nul\u0007bell\u200bzw\u00a0nbsp \ufffd end',
    'Hello [MASK]  spaced  [MASK] end [mask] x[MASK]y',
    '<Ent> <ent> <ENT>x and qq qqq aqq qq. (qq) q_q qq_ qq',
    'IL-6 and TNF-α levels (p < 0.05)',
]
VARIANTS = {
    'cased': {'normalizer': {'lowercase': False}},
    'strip-accents-cased': {'normalizer': {'lowercase': False, 'strip_accents': True}},
    'lowercase-keep-accents': {'normalizer': {'strip_accents': False}},
    'no-clean-no-cjk': {'normalizer': {'clean_text': False, 'handle_chinese_chars': False}},
    'added-token-options': {'added_tokens': [
        {'id': 103, 'content': '[MASK]', 'single_word': False, 'lstrip': True, 'rstrip': True,
         'normalized': False, 'special': True},
        {'id': 30522, 'content': '<Ent>', 'single_word': False, 'lstrip': False, 'rstrip': False,
         'normalized': True, 'special': False},
        {'id': 30523, 'content': 'qq', 'single_word': True, 'lstrip': False, 'rstrip': False,
         'normalized': False, 'special': False},
    ]},
}


def apply_variant(tokenizer_json, change):
    out = json.loads(json.dumps(tokenizer_json))
    if 'normalizer' in change:
        out['normalizer'].update(change['normalizer'])
    for token in change.get('added_tokens', []):
        out['added_tokens'] = [t for t in out['added_tokens'] if t['id'] != token['id']] + [token]
    return out


TRUNCATION = [(LONG_PROSE, 512), (LONG_PROSE, 16), ('Hello, world!', 3), ('Hello, world!', 2)]
SWEEP_PLANES = [(0x0000, 0x40000), (0xE0000, 0xE0200)]
BLOCK = 256


def short_hash(s):
    return hashlib.sha256(s.encode('utf-8')).hexdigest()[:16]


def sweep(tok):
    blocks = {}
    for lo, hi in SWEEP_PLANES:
        for start in range(lo, hi, BLOCK):
            chars = [chr(cp) for cp in range(start, start + BLOCK) if not 0xD800 <= cp <= 0xDFFF]
            if not chars:
                continue
            text = ' '.join('x' + c for c in chars)
            pieces = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text))]
            ids = tok.encode(text).ids
            blocks['%x' % start] = [short_hash('\n'.join(pieces)), short_hash(','.join(map(str, ids)))]
    return blocks


def ranges(pred):
    out, start = [], None
    for cp in range(0x110001):
        ok = cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF and pred(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    return out


def write_tables(tok, path):
    clean = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(
        clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    tables = {
        'CLEANED_RANGES': ('Dropped by clean_text (NUL, U+FFFD, Cc/Cf/Co except \\t \\n \\r).',
                           ranges(lambda c: clean.normalize_str(c) == '')),
        'NONSPACING_MARK_RANGES': ('Nonspacing marks (Mn) that strip_accents drops after NFD.',
                                   ranges(lambda c: strip.normalize_str(c) == '')),
        'PUNCTUATION_RANGES': ('BertPreTokenizer punctuation (ASCII punctuation or Unicode P*).',
                               ranges(lambda c: len(tok.pre_tokenizer.pre_tokenize_str('a' + c + 'b')) == 3)),
    }
    lines = [
        '// Generated by scripts/gen-tokenizer-fixtures.py --tables from HF tokenizers %s. Do not edit.' % version('tokenizers'),
        '// HF tokenizers classifies characters with its own (older) Unicode data; these tables pin that',
        "// behaviour so token ids do not change with Node's ICU version. Flat [first, last, first, last, ...].",
        '',
    ]
    for name, (doc, rs) in tables.items():
        lines.append('/** %s */' % doc)
        lines.append('export const %s: readonly number[] = [' % name)
        flat = ['0x%x, 0x%x,' % r for r in rs]
        for i in range(0, len(flat), 6):
            lines.append('  ' + ' '.join(flat[i:i + 6]))
        lines.append('];')
        lines.append('')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tokenizer', default=DEFAULT_TOKENIZER)
    ap.add_argument('--out', default=os.path.join(ROOT, 'test', 'fixtures', 'embed', 'tokenizer-golden.json'))
    ap.add_argument('--tables', action='store_true')
    args = ap.parse_args()

    tok = Tokenizer.from_file(args.tokenizer)
    cases = []
    for text in CASES:
        enc = tok.encode(text)
        cases.append({'text': text, 'ids': enc.ids, 'tokens': enc.tokens})
    truncation = []
    for text, max_tokens in TRUNCATION:
        tok.enable_truncation(max_tokens)
        truncation.append({'text': text, 'maxTokens': max_tokens, 'ids': tok.encode(text).ids})
        tok.no_truncation()
    with open(args.tokenizer, encoding='utf-8') as f:
        tokenizer_json = json.load(f)
    variants = []
    for name, change in VARIANTS.items():
        vtok = Tokenizer.from_str(json.dumps(apply_variant(tokenizer_json, change)))
        variants.append({'name': name, 'change': change,
                         'cases': [{'text': t, 'ids': vtok.encode(t).ids} for t in VARIANT_TEXTS]})
    golden = {
        'generator': 'scripts/gen-tokenizer-fixtures.py',
        'tokenizers': version('tokenizers'),
        'tokenizer': os.path.basename(args.tokenizer),
        'cases': cases,
        'truncation': truncation,
        'variants': variants,
        'sweep': {'blockSize': BLOCK, 'blocks': sweep(tok)},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(golden, f, ensure_ascii=True, indent=1)
        f.write('\n')
    print('wrote %s (%d cases, %d sweep blocks)' % (args.out, len(cases), len(golden['sweep']['blocks'])))
    if args.tables:
        path = os.path.join(ROOT, 'src', 'embed', 'bert-unicode-tables.ts')
        write_tables(tok, path)
        print('wrote %s' % path)


if __name__ == '__main__':
    main()
