// Compose files: the compose-spec JSON schema (as written, and after interpolation with the example
// env file), then what the schema cannot see: references between services, networks, volumes and
// secrets; healthchecks behind `service_healthy`; profiles; bind-mount sources; pinned images; and
// "private by default" (ports published on loopback only, by the API only in the main file).
//   node compose.mjs --schema compose-spec.json --env-file .env.example compose.yaml [override.yaml...]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createReport, isPinnedImage, readYaml, requireTool } from './lib.mjs';

const { values, positionals } = parseArgs({ options: { schema: { type: 'string' }, 'env-file': { type: 'string' } }, allowPositionals: true });
const report = createReport('compose');
const Ajv2020 = requireTool('ajv/dist/2020').default;
const schema = JSON.parse(readFileSync(values.schema, 'utf8'));
delete schema.$schema;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const shown = (file) => relative(process.cwd(), file);

/** The example env file: what an operator fills in; every variable compose needs must be there. */
function readEnvFile(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}. */
function interpolate(text, env, where, problems) {
  return text.replace(/\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, bare) => {
    if (match === '$$') return '$';
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s.exec(braced ?? bare);
    if (!m) {
      problems.push(`${where}: invalid interpolation ${match}`);
      return '';
    }
    const [, name, op, arg = ''] = m;
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (op) {
      case ':-':
        return nonEmpty ? value : arg;
      case '-':
        return set ? value : arg;
      case ':?':
      case '?':
        if (op === ':?' ? !nonEmpty : !set) problems.push(`${where}: required variable ${name} is not in the example env file`);
        return value ?? '';
      case ':+':
        return nonEmpty ? arg : '';
      case '+':
        return set ? arg : '';
      default:
        if (!set) problems.push(`${where}: ${name} has no default and is not in the example env file`);
        return value ?? '';
    }
  });
}

function interpolateTree(node, env, path, problems) {
  if (typeof node === 'string') return interpolate(node, env, path, problems);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, env, `${path}[${i}]`, problems));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env, path ? `${path}.${k}` : k, problems)]));
  }
  return node;
}

function schemaProblems(doc) {
  if (validate(doc)) return [];
  return validate.errors.map((e) => {
    const at = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
    const key = e.params.additionalProperty ?? e.params.unevaluatedProperty;
    const extra = key === undefined ? '' : ` '${key}'`;
    return `${at} ${e.message}${extra}`;
  });
}

const names = (v) => (Array.isArray(v) ? v : Object.keys(v ?? {}));

/** `HOST_IP:HOST:CONTAINER`, `HOST:CONTAINER` or a long-syntax mapping: the host address it binds. */
function hostIp(port) {
  if (typeof port === 'object') return port.published === undefined ? 'none' : (port.host_ip ?? '0.0.0.0');
  const s = String(port);
  if (!s.includes(':')) return 'none'; // container port only: published on a random port of every address
  const bracket = /^\[([^\]]+)\]:/.exec(s);
  if (bracket) return bracket[1];
  const parts = s.split(':');
  return parts.length >= 3 ? parts[0] : '0.0.0.0';
}

function checkSemantics(file, doc, base) {
  const p = (msg) => report.problem(file, msg);
  const dir = dirname(file);
  const services = doc.services ?? {};
  const all = { ...(base?.services ?? {}), ...services };
  const declared = (kind) => new Set([...names(base?.[kind]), ...names(doc[kind])]);
  const networks = declared('networks');
  const volumes = declared('volumes');
  const secrets = declared('secrets');
  for (const [name, svc] of Object.entries(services)) {
    const at = `services.${name}`;
    if (base && !(name in base.services)) p(`${at}: not a service of the main compose file`);
    if (!base && !svc.image && !svc.build) p(`${at}: neither image nor build`);
    if (svc.image && !isPinnedImage(svc.image)) p(`${at}.image '${svc.image}' is not pinned to a version`);
    if (svc.build) {
      const context = resolve(dir, typeof svc.build === 'string' ? svc.build : (svc.build.context ?? '.'));
      if (!existsSync(context)) p(`${at}.build context ${shown(context)} does not exist`);
      else if (typeof svc.build === 'object' && svc.build.dockerfile && !existsSync(resolve(context, svc.build.dockerfile))) p(`${at}.build.dockerfile ${svc.build.dockerfile} does not exist`);
    }
    for (const [dep, spec] of Object.entries(Array.isArray(svc.depends_on) ? Object.fromEntries(svc.depends_on.map((d) => [d, {}])) : (svc.depends_on ?? {}))) {
      const target = all[dep];
      if (!target) {
        p(`${at}.depends_on: no service ${dep}`);
        continue;
      }
      if (spec.condition === 'service_healthy' && (!target.healthcheck || target.healthcheck.disable)) p(`${at}.depends_on ${dep} (service_healthy): ${dep} has no healthcheck`);
      // A dependency must run whenever its dependant does.
      const mine = svc.profiles ?? [];
      const theirs = target.profiles ?? [];
      if (theirs.length > 0 && (mine.length === 0 || mine.some((x) => !theirs.includes(x)))) p(`${at}.depends_on ${dep}: ${dep} is only in profiles [${theirs}] but ${name} runs in [${mine.length ? mine : 'every profile'}]`);
    }
    for (const n of names(svc.networks)) if (!networks.has(n)) p(`${at}.networks: ${n} is not declared`);
    for (const s of svc.secrets ?? []) {
      const source = typeof s === 'string' ? s : s.source;
      if (!secrets.has(source)) p(`${at}.secrets: ${source} is not declared`);
    }
    for (const v of svc.volumes ?? []) {
      const source = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0] : undefined) : v.source;
      if (!source) continue;
      if (/^[./~]/.test(source)) {
        if (!existsSync(resolve(dir, source))) p(`${at}.volumes: bind source ${source} does not exist (relative to ${shown(dir) || '.'})`);
      } else if (!volumes.has(source)) p(`${at}.volumes: named volume ${source} is not declared`);
    }
    for (const port of svc.ports ?? []) {
      const ip = hostIp(port);
      if (!['127.0.0.1', '::1', 'localhost'].includes(ip)) p(`${at}.ports '${typeof port === 'object' ? JSON.stringify(port) : port}' binds ${ip}: publish on loopback by default (private by default)`);
    }
    if (!base && svc.ports && name !== 'api') p(`${at}: publishes a port, but only the API does in the main compose file (compose.ops-ports.yaml opts in to the consoles)`);
  }
  for (const [name, s] of Object.entries(doc.secrets ?? {})) {
    if (s.file && !existsSync(dirname(resolve(dir, s.file)))) p(`secrets.${name}: folder of ${s.file} does not exist`);
  }
}

const env = readEnvFile(values['env-file']);
let base;
for (const [i, file] of positionals.entries()) {
  const raw = report.guard(shown(file), () => readYaml(file));
  if (!raw) continue;
  for (const msg of schemaProblems(raw)) report.problem(shown(file), `schema: ${msg}`);
  const problems = [];
  const doc = interpolateTree(raw, env, '', problems);
  for (const msg of problems) report.problem(shown(file), msg);
  for (const msg of schemaProblems(doc)) report.problem(shown(file), `schema (interpolated with ${shown(values['env-file'])}): ${msg}`);
  // An override is checked against the main file; without a readable main file only its schema is.
  if (i === 0) {
    base = doc;
    checkSemantics(shown(file), doc, undefined);
  } else if (base) checkSemantics(shown(file), doc, base);
}
report.finish();
