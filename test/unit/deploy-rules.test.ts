import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../../src/config.js';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; runbook_url?: string };
}

const rules = (parseYaml(readFileSync(join(PROJECT_ROOT, 'deploy', 'prometheus', 'rules', 'srag.rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('alert rules', () => {
  it('cover what ops asked to be paged for', () => {
    const names = rules.map((r) => r.alert);
    for (const n of ['SragSnapshotStale', 'SragRestoreDrillFailed', 'SragRestoreDrillStale', 'SragIngestFailureRatioHigh', 'SragEmbeddingBacklogGrowing', 'SragSearchLatencyHigh', 'SragTargetDown', 'TemporalDown', 'SragDiskNearlyFull']) {
      expect(names).toContain(n);
    }
  });

  it.each(rules.map((r) => [r.alert ?? '?', r] as const))('%s has a severity, a summary and a runbook paragraph in the README', (name, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.runbook_url).toBe(`README.md#${name.toLowerCase()}`);
    // GitHub's anchor for "#### SragSnapshotStale" is "sragsnapshotstale".
    expect(readme).toMatch(new RegExp(`^#### ${name}$`, 'm'));
  });
});
