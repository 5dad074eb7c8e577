// Grafana: provisioning YAML parses and has its basic shape; every dashboard JSON parses and has a
// title, a uid (unique), panels whose queries carry a PromQL expr, and refers only to provisioned
// datasources. The exprs are written out as recording rules so that promtool parses them too.
//   node grafana.mjs <deploy/grafana> <exprs-out.yml>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReport, readYaml } from './lib.mjs';

const [root, exprsOut] = process.argv.slice(2);
const report = createReport('grafana');
const yamlFiles = (dir) => {
  try {
    return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
  } catch {
    return [];
  }
};

/** Every YAML file of provisioning/<kind>: apiVersion 1 and a non-empty list under `key`, each item checked. */
function checkProvisioning(kind, key, checkItem) {
  const dir = join(root, 'provisioning', kind);
  const files = yamlFiles(dir);
  if (files.length === 0) report.problem(dir, `no ${kind} provisioning file`);
  for (const file of files) {
    const doc = report.guard(file, () => readYaml(file));
    if (!doc) continue;
    if (doc.apiVersion !== 1) report.problem(file, 'apiVersion must be 1');
    if (!Array.isArray(doc[key]) || doc[key].length === 0) report.problem(file, `${key} must be a non-empty list`);
    for (const [i, item] of (Array.isArray(doc[key]) ? doc[key] : []).entries()) checkItem((msg) => report.problem(file, `${key}[${i}].${msg}`), item ?? {});
  }
}

const datasourceUids = new Set();
checkProvisioning('datasources', 'datasources', (problem, ds) => {
  for (const field of ['name', 'type', 'url', 'uid']) if (typeof ds[field] !== 'string' || ds[field] === '') problem(`${field} is missing`);
  if (ds.uid) datasourceUids.add(ds.uid);
});
checkProvisioning('dashboards', 'providers', (problem, provider) => {
  if (typeof provider.name !== 'string') problem('name is missing');
  if (provider.type !== 'file') problem('type must be file');
  if (typeof provider.options?.path !== 'string') problem('options.path is missing');
});

/** Grafana variables in a query, replaced by values PromQL parses: ranges by a duration, others by a word. */
function withoutVariables(expr) {
  return expr
    .replace(/\[\s*\$\{?\w+(?::\w+)?\}?\s*(:\s*\$?\{?\w*\}?)?\]/g, '[5m]')
    .replace(/\$\{?__(?:range_s|range_ms|interval_ms)\}?/g, '300')
    .replace(/\$\{?__\w+\}?/g, '5m')
    .replace(/\$\{\w+(?::\w+)?\}|\$\w+/g, 'x');
}

const uids = new Map();
const groups = [];
const dashboardsDir = join(root, 'dashboards');
let dashboards = [];
try {
  dashboards = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).map((f) => join(dashboardsDir, f));
} catch {
  report.problem(dashboardsDir, 'folder does not exist');
}
for (const file of dashboards) {
  const d = report.guard(file, () => JSON.parse(readFileSync(file, 'utf8')));
  if (d === undefined) continue;
  if (!d || typeof d !== 'object' || Array.isArray(d)) {
    report.problem(file, 'is not a JSON object');
    continue;
  }
  if (typeof d.title !== 'string' || d.title === '') report.problem(file, 'title is missing');
  if (typeof d.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(d.uid)) report.problem(file, 'uid must be 1 to 40 letters, digits, - or _');
  else if (uids.has(d.uid)) report.problem(file, `uid ${d.uid} is also the uid of ${uids.get(d.uid)}`);
  else uids.set(d.uid, file);
  if (!Array.isArray(d.panels) || d.panels.length === 0) {
    report.problem(file, 'panels must be a non-empty list');
    continue;
  }
  const checkDatasource = (ds, at) => {
    const uid = typeof ds === 'object' && ds ? ds.uid : undefined;
    if (uid && !uid.startsWith('$') && !uid.startsWith('-- ') && uid !== 'grafana' && !datasourceUids.has(uid)) report.problem(file, `${at}: datasource uid ${uid} is not provisioned (known: ${[...datasourceUids].join(', ')})`);
  };
  const panels = d.panels.flatMap((p) => [p, ...(Array.isArray(p?.panels) ? p.panels : [])]);
  const rules = [];
  for (const [i, panel] of panels.entries()) {
    const at = `panel ${panel?.id ?? i} '${panel?.title ?? ''}'`;
    if (!panel || typeof panel.type !== 'string') {
      report.problem(file, `${at}: type is missing`);
      continue;
    }
    if (['row', 'text', 'dashlist', 'news', 'annolist'].includes(panel.type)) continue;
    checkDatasource(panel.datasource, at);
    if (!Array.isArray(panel.targets) || panel.targets.length === 0) {
      report.problem(file, `${at}: no targets`);
      continue;
    }
    for (const [j, t] of panel.targets.entries()) {
      checkDatasource(t?.datasource, `${at} target ${t?.refId ?? j}`);
      if (typeof t?.expr !== 'string' || t.expr.trim() === '') report.problem(file, `${at} target ${t?.refId ?? j}: expr is missing`);
      else rules.push({ record: `panel_${panel.id ?? i}_${t.refId ?? j}`.replace(/[^A-Za-z0-9_:]/g, '_'), expr: withoutVariables(t.expr) });
    }
  }
  if (rules.length > 0) groups.push({ name: file, rules });
}
if (dashboards.length === 0) process.stderr.write(`  (no dashboards in ${dashboardsDir} yet)\n`);
// JSON is YAML: promtool reads this file as a rules file.
writeFileSync(exprsOut, JSON.stringify({ groups }, null, 1));
report.finish();
