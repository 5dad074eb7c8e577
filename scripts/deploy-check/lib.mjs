// Shared by the deploy checks (run by scripts/check-deploy.sh). Their libraries (yaml, ajv) are
// installed under .cache/tools/node, not in the project's package.json: DEPLOY_CHECK_NODE_MODULES
// names that folder.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const modules = process.env.DEPLOY_CHECK_NODE_MODULES;
if (!modules) {
  process.stderr.write('DEPLOY_CHECK_NODE_MODULES is not set: run these checks through scripts/check-deploy.sh\n');
  process.exit(2);
}
export const requireTool = createRequire(join(resolve(modules), 'node_modules', 'noop.js'));
const YAML = requireTool('yaml');

/** Every document of a YAML file or stream, merge keys (`<<`) resolved; syntax errors and duplicate keys throw. */
export function readYamlDocuments(file) {
  const docs = YAML.parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true, prettyErrors: true });
  const out = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
    const value = doc.toJS({ maxAliasCount: 1000 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export function readYaml(file) {
  const docs = readYamlDocuments(file);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0];
}

/** Collects `file: message` lines; `finish()` prints them and sets the exit code. */
export function createReport(name) {
  const problems = [];
  return {
    problem(file, message) {
      problems.push(`${file}: ${message}`);
    },
    /** Runs fn; an exception becomes a problem of `file` (a file that cannot even be read or parsed). */
    guard(file, fn) {
      try {
        return fn();
      } catch (err) {
        problems.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    },
    finish() {
      for (const p of problems) process.stderr.write(`  ${p}\n`);
      if (problems.length > 0) {
        process.stderr.write(`${name}: ${problems.length} problem(s)\n`);
        process.exitCode = 1;
      }
    },
  };
}

/** An image reference pinned to a version: a tag with a digit that is not `latest`, or a digest. */
export function isPinnedImage(ref) {
  if (typeof ref !== 'string' || ref === '') return false;
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  if (colon < 0) return false;
  const tag = ref.slice(colon + 1);
  return tag !== 'latest' && /\d/.test(tag);
}
