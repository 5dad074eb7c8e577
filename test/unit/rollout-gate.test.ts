import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateVerdict, msUntilWindow, parsePatchWindow } from '../../src/domain/rollout.js';
import { loadGateSet } from '../../src/services/rollout.js';

const scores = (ndcg10: number, recall100: number) => ({ ndcg10, recall100, mrr10: 0, queries: 40 });

describe('rollout gate verdict', () => {
  it('passes a candidate that is better, equal, or worse within the tolerance on both figures', () => {
    expect(gateVerdict(scores(0.8, 0.9), scores(0.85, 0.95), { ndcg10: 0, recall100: 0 }).pass).toBe(true);
    expect(gateVerdict(scores(0.8, 0.9), scores(0.8, 0.9), { ndcg10: 0, recall100: 0 }).pass).toBe(true);
    expect(gateVerdict(scores(0.8, 0.9), scores(0.79, 0.89), { ndcg10: 0.02, recall100: 0.02 }).pass).toBe(true);
  });

  it('refuses when either figure drops by more than its tolerance, and says by how much', () => {
    const ndcg = gateVerdict(scores(0.8644, 1), scores(0.8403, 1), { ndcg10: 0.01, recall100: 0.01 });
    expect(ndcg.pass).toBe(false);
    expect(ndcg.reason).toContain('nDCG@10 0.8403 vs 0.8644 (-0.0241, tolerance 0.01)');
    expect(gateVerdict(scores(0.8, 0.9), scores(0.9, 0.85), { ndcg10: 0.02, recall100: 0.02 }).pass).toBe(false);
  });
});

describe('patch windows', () => {
  const at = (iso: string) => new Date(iso);
  it('parses hours and weekdays; refuses nonsense', () => {
    expect(parsePatchWindow('02-04')).toEqual({ startHour: 2, endHour: 4 });
    expect(parsePatchWindow('sat,sun 22-02')).toEqual({ startHour: 22, endHour: 2, days: [6, 0] });
    expect(() => parsePatchWindow('weekends')).toThrow(/not a patch window/);
    expect(() => parsePatchWindow('fri 25-02')).toThrow(/not a patch window/);
    expect(() => parsePatchWindow('xyz 02-04')).toThrow(/not a weekday/);
  });

  it('is open inside the window, and says how long until it opens otherwise', () => {
    const w = parsePatchWindow('02-04');
    expect(msUntilWindow(w, at('2026-12-02T03:30:00Z'))).toBe(0);
    expect(msUntilWindow(w, at('2026-12-02T04:00:00Z'))).toBe(22 * 3_600_000);
    expect(msUntilWindow(w, at('2026-12-02T01:15:00Z'))).toBe(45 * 60_000);
  });

  it('weekday windows past midnight belong to the day they start on', () => {
    // 2026-12-05 is a Saturday.
    const w = parsePatchWindow('sat 22-02');
    expect(msUntilWindow(w, at('2026-12-05T23:00:00Z'))).toBe(0);
    expect(msUntilWindow(w, at('2026-12-06T01:30:00Z'))).toBe(0);
    expect(msUntilWindow(w, at('2026-12-06T02:00:00Z'))).toBe((6 * 24 + 20) * 3_600_000);
    expect(msUntilWindow(w, at('2026-12-02T22:00:00Z'))).toBe(3 * 24 * 3_600_000);
  });
});

describe('gate eval sets', () => {
  it('a golden questions file gives queries with their expected documents; a bad line is a typed error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-golden-'));
    const file = join(dir, 'golden.jsonl');
    writeFileSync(file, '{"question":"How long are invoices kept?","documents":["doc_a","doc_b"]}\n\n{"question":"Who approves travel?","documents":["42"]}\n');
    const set = loadGateSet({ file });
    expect(set.queries).toEqual([
      { id: 'g1', text: 'How long are invoices kept?' },
      { id: 'g3', text: 'Who approves travel?' },
    ]);
    expect([...set.qrels.get('g1')!.keys()]).toEqual(['doc_a', 'doc_b']);
    expect(loadGateSet({ file, limit: 1 }).queries).toHaveLength(1);
    writeFileSync(file, '{"question":"no documents"}\n');
    expect(() => loadGateSet({ file })).toThrow(/line 1: expected/);
    expect(() => loadGateSet({})).toThrow(/needs an eval set/);
  });
});
