// Lint rules that protect the architecture: workflow code must stay deterministic, so it may import
// only @temporalio/workflow, src/domain and types from activities/.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads', 'stream', 'url', 'util', 'zlib', 'dns', 'tls', 'process', 'timers', 'events', 'buffer', 'readline', 'perf_hooks', 'cluster', 'module', 'vm'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', '.srag/**', 'dist/**', 'src/parse/pdf-worker.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Only entrypoints read the environment: pass Config down.' }],
    },
  },
  {
    // Entrypoints and tests may read the environment.
    files: ['src/cli/main.ts', 'workers/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflows must be deterministic: no Node or I/O modules.' })),
          patterns: [
            { group: ['@temporalio/*', '!@temporalio/workflow'], message: 'Workflows import only @temporalio/workflow.' },
            { group: ['../src/*', '!../src/domain'], message: 'Workflows import only src/domain.' },
            { group: ['../src/domain/ids*', '../src/domain/pipeline*'], message: 'ids and pipeline hash with node:crypto: not in workflows.' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'Workflows import only types from activities/.' },
            { group: ['../workers/*', '../test/*'], message: 'Nothing imports workers/ or test/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/workers/*', '**/test/*'], message: 'Nothing imports workers/ or test/.' }] },
      ],
    },
  },
);
