import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads. Strings, label matchers, ranges and grouping clauses are
 * cut first; what is left are function names (followed by "("), keywords, numbers and metric names.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?!\w)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue;
    // Exponents of numbers such as 1e-9 are not names.
    if (/^e\d*$/i.test(m[1])) continue;
    names.add(m[1]);
  }
  return [...names];
}

export interface RuleExpr {
  file: string;
  name: string;
  expr: string;
}

/** Every alert or recording rule under a rules folder (Prometheus rule-file YAML). */
export function ruleExpressions(dir: string): RuleExpr[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((file) => {
      const doc = parseYaml(readFileSync(join(dir, file), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
      return doc.groups.flatMap((g) => g.rules.map((r) => ({ file, name: r.alert ?? r.record ?? '?', expr: String(r.expr) })));
    });
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every query of every panel (rows included) of the Grafana dashboards in a folder. */
export function dashboardExpressions(dir: string): RuleExpr[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { panels?: Panel[] };
      const walk = (panels: Panel[] = []): RuleExpr[] =>
        panels.flatMap((p) => [...(p.targets ?? []).filter((t) => t.expr).map((t) => ({ file, name: p.title ?? '?', expr: String(t.expr) })), ...walk(p.panels)]);
      return walk(doc.panels);
    });
}

/** Sample names and declared metric families (a labelled series may have no sample yet) of a scrape. */
export function exposedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\S+) (\S+)/.exec(line);
    if (declared) {
      out.add(declared[1]);
      if (declared[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(declared[1] + s);
      if (declared[2] === 'summary') for (const s of ['_sum', '_count']) out.add(declared[1] + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) out.add(sample[1]);
  }
  return out;
}

/** The value of one sample, matched by name and a subset of its labels (undefined: none). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}
