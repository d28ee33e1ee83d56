import { defineConfig } from 'vitest/config';

// Tests live next to the code and are split by speed (STYLE.md rule 10):
// *.unit.test.ts are pure, *.int.test.ts touch a real SQLite file or real HTTP,
// e2e/*.e2e.test.ts need the real kube-apiserver started by `npm run e2e:up`.
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.unit.test.{ts,tsx}'], exclude: ['node_modules/**', 'dist/**'] } },
      { extends: true, test: { name: 'int', include: ['**/*.int.test.{ts,tsx}'], exclude: ['node_modules/**', 'dist/**'], testTimeout: 60_000 } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts', '**/*.e2e.test.{ts,tsx}'],
          exclude: ['node_modules/**', 'dist/**'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The zoo (e2e/zoo/README.md): real controllers recorded on the real control plane; `npm run test:zoo`.
        extends: true,
        test: { name: 'zoo', include: ['e2e/zoo/zoo.test.ts'], testTimeout: 240_000, hookTimeout: 40 * 60_000, fileParallelism: false },
      },
    ],
  },
});
