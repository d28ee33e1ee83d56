// Folder dependency rules from CONTRIBUTING.md, enforced the way gemini-cli guards its packages:
// data flows sources → store → replayer → views, and the pure core never touches I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const io = ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:net', 'node:child_process', 'fs', 'http', 'https'];
const noIo = io.map((name) => ({ name, message: 'pure core: no I/O here (STYLE.md). Do I/O in cli/, recorder/, importers/ or store/.' }));
const noLibs = [
  { name: 'better-sqlite3', message: 'only store/ imports better-sqlite3' },
  { name: '@kubernetes/client-node', message: 'only recorder/ and e2e/ talk to the API server' },
];
const folder = (name) => [`../${name}/*`, `../../${name}/*`, `../../../${name}/*`];
const forbidFolders = (names, why) => ({ group: names.flatMap(folder), message: why });
const noCli = { group: folder('cli'), message: 'nothing imports cli/ (STYLE.md)' };
const restrict = (paths, patterns) => ['error', { paths, patterns: [...patterns, noCli] }];
const pureGlobals = [
  { object: 'Date', property: 'now', message: 'pure core: time comes from the records, never the clock' },
  { object: 'Math', property: 'random', message: 'pure core: no randomness' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'e2e/cluster/**', '.e2e/**', 'sdk/go/**', 'coverage/**', 'bench/out/**'] },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['model/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([...noIo, ...noLibs], [forbidFolders(['store', 'recorder', 'importers', 'replayer', 'exporters', 'tui', 'cli'], 'model imports only zod')]),
      'no-restricted-properties': ['error', ...pureGlobals],
    },
  },
  {
    files: ['replayer/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([...noIo, ...noLibs], [forbidFolders(['store', 'recorder', 'importers', 'exporters', 'tui', 'cli'], 'replayer imports only model')]),
      'no-restricted-properties': ['error', ...pureGlobals],
    },
  },
  {
    files: ['exporters/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([...noIo, ...noLibs], [forbidFolders(['store', 'recorder', 'importers', 'tui', 'cli'], 'exporters import model and replayer only')]),
      'no-restricted-properties': ['error', ...pureGlobals],
    },
  },
  {
    files: ['store/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([noLibs[1]], [forbidFolders(['recorder', 'importers', 'replayer', 'exporters', 'tui', 'cli'], 'store imports model only')]),
    },
  },
  // Deviation from STYLE.md, on purpose: the recorder may import importers/' pure parsers, so the audit webhook
  // receiver and `kreplay import --format audit` turn the same audit event into the same records with one converter.
  {
    files: ['recorder/**/*.ts', 'importers/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([noLibs[0]], [forbidFolders(['replayer', 'exporters', 'tui', 'cli'], 'recorder and importers import model and store only')]),
    },
  },
  {
    files: ['tui/**/*.ts', 'tui/**/*.tsx'],
    ignores: ['**/*.test.ts', '**/*.test.tsx'],
    rules: {
      'no-restricted-imports': restrict([...noLibs], [
        forbidFolders(['recorder', 'importers', 'cli'], 'tui imports model and replayer, and gets rows through an interface'),
        { ...forbidFolders(['store'], 'tui gets rows through an interface: import store types only (import type)'), allowTypeImports: true },
      ]),
    },
  },
  {
    files: ['sdk/**/*.ts', 'bench/**/*.ts', 'e2e/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([], []) },
  },
);
