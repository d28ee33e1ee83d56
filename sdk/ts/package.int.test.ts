import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionRecord } from '../../model/index.js';

// The TypeScript SDK as a controller gets it: `import ... from 'kreplay/sdk'` from the packed package (npm pack of
// the real package.json, its `files` and `exports`), with the declarations the real build config emits. Built into
// a temporary folder, not the repo's dist/, which other tests may be reading.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
let work: string;
let consumer: string;

/** Runs a command; a failure names it with what it printed. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kreplay-package-'));
  const source = join(work, 'source');
  mkdirSync(source);
  copyFileSync(join(repo, 'package.json'), join(source, 'package.json'));
  // The build config itself (declaration and all), narrowed to the SDK and what it imports.
  writeFileSync(
    join(work, 'tsconfig.sdk.json'),
    JSON.stringify({
      extends: join(repo, 'tsconfig.build.json'),
      compilerOptions: { rootDir: repo, outDir: join(source, 'dist'), typeRoots: [join(repo, 'node_modules/@types')] },
      include: [join(repo, 'sdk/ts')],
      exclude: [join(repo, 'sdk/ts/**/*.test.ts'), join(repo, 'sdk/ts/testing')],
    }),
  );
  run(process.execPath, [tsc, '-p', join(work, 'tsconfig.sdk.json')], work);
  run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], source);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);

  // An ESM project with the package installed: the tarball unpacked into node_modules, and the runtime dependency
  // the declarations name (zod, through model/) and Node's types linked from this repo as npm would install them.
  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  run('tar', ['-xzf', join(work, tarball), '-C', join(consumer, 'node_modules')], work);
  run('mv', [join(consumer, 'node_modules/package'), join(consumer, 'node_modules/kreplay')], work);
  symlinkSync(join(repo, 'node_modules/zod'), join(consumer, 'node_modules/zod'));
  symlinkSync(join(repo, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'my-controller', private: true, type: 'module' }));
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed TypeScript SDK', () => {
  it("runs from 'kreplay/sdk' and reports to a recorder; deep paths stay private", () => {
    // A loopback server stands in for the recorder; the script prints what it received.
    const script = `
      import http from 'node:http';
      const { createReporter } = await import('kreplay/sdk');
      const lines = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => { lines.push(...body.split('\\n').filter(Boolean).map((l) => JSON.parse(l))); res.writeHead(204).end(); });
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const reporter = createReporter({ url: 'http://127.0.0.1:' + server.address().port, log: () => {} });
      const reconcile = reporter.wrapReconcile({ controller: 'web', group: 'apps', version: 'v1', kind: 'Deployment' },
        async () => ({ requeueAfterMs: 1500 }));
      await reconcile({ namespace: 'default', name: 'web' });
      const stats = await reporter.close();
      server.close();
      let deep = 'resolved';
      try { await import('kreplay/dist/sdk/ts/index.js'); } catch (error) { deep = error.code; }
      console.log(JSON.stringify({ lines, stats, resolved: import.meta.resolve('kreplay/sdk'), deep }));
    `;
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], consumer)) as {
      lines: unknown[];
      stats: { sent: number; dropped: number };
      resolved: string;
      deep: string;
    };
    expect(out.resolved).toMatch(/\/node_modules\/kreplay\/dist\/sdk\/ts\/index\.js$/);
    expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    const records = out.lines.map((line) => SessionRecord.parse(line));
    expect(records.map((r) => r.record)).toEqual(['reconcile-start', 'reconcile']);
    expect(records[1]).toMatchObject({ controller: 'web', result: 'requeue-after', requeueAfterMs: 1500, origin: 'ingest' });
    expect(out.stats).toMatchObject({ sent: 2, dropped: 0 });
  });

  // The consumer's code is type-checked against the package's own .d.ts; the @ts-expect-error lines fail the build
  // if the types were missing or `any`. Under NodeNext with skipLibCheck off, so the emitted declarations (and the
  // zod and Node types they lean on) are checked too; once is enough: it is the slow part.
  const consumerSource = `
    import { classifyApiError, createReporter, envUrl, type ReconcileOutcome, type Reporter } from 'kreplay/sdk';
    const reporter: Reporter = createReporter({ url: 'http://127.0.0.1:9477', reconcileStarts: false });
    const outcome: ReconcileOutcome = { requeueAfterMs: 1000 };
    // @ts-expect-error the URL is a string
    createReporter({ url: 9477 });
    // @ts-expect-error a reconcile outcome has no such field
    const wrong: ReconcileOutcome = { requeueAfter: 1000 };
    export const checked: [boolean, ReconcileOutcome, ReconcileOutcome, string, string | undefined] =
      [reporter.enabled, outcome, wrong, envUrl, classifyApiError(new Error('x')).reason];
  `;
  for (const [moduleKind, resolution] of [
    ['NodeNext', 'NodeNext'],
    ['ESNext', 'Bundler'],
    ['CommonJS', 'Node10'], // ignores `exports`: found through typesVersions
  ] as const) {
    it(`type-checks a consumer with moduleResolution ${resolution}`, () => {
      const dir = join(consumer, `types-${resolution}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'main.ts'), consumerSource);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: moduleKind,
            moduleResolution: resolution,
            target: 'ES2022',
            strict: true,
            esModuleInterop: true,
            noEmit: true,
            skipLibCheck: resolution !== 'NodeNext',
            types: ['node'],
          },
          files: ['main.ts'],
        }),
      );
      expect(() => run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], dir)).not.toThrow();
    }, 300_000);
  }
});
