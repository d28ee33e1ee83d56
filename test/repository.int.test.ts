import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envToken, envUrl } from '../sdk/ts/reporter.js';

/**
 * The repository must stand alone: people clone it with nothing beside it. And the documented sidecar must wire the
 * SDK with the variables the SDKs actually read, or it records no reconcile and `check` says "no findings".
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const skipped = new Set(['node_modules', 'dist', '.git', '.e2e', 'coverage', 'out']);
const binary = /\.(gz|png|jpg|db|sqlite|wasm|node)$/;

function* repositoryFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (skipped.has(name)) continue;
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) yield* repositoryFiles(path);
    else if (stat.isFile() && !binary.test(name) && stat.size < 8 * 1024 * 1024) yield path;
  }
}

describe('the repository', () => {
  it('never refers to the team folder beside it', () => {
    // Built from pieces so this file does not match itself.
    const outside = new RegExp(['\\.\\./', 'shared', '(/|\\b)', '|', '/work/', 'shared'].join(''));
    const offenders: string[] = [];
    for (const path of repositoryFiles(root)) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (outside.test(line)) offenders.push(`${relative(root, path)}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('carries the source and licence of every real fixture', () => {
    const real = join(root, 'test/fixtures/real');
    expect(readFileSync(join(real, 'README.md'), 'utf8')).toMatch(/audit2rbac[\s\S]*Apache-2\.0[\s\S]*sieve-project\/sieve[\s\S]*BSD-2-Clause/);
    expect(readFileSync(join(real, 'sieve/LICENSE'), 'utf8')).toMatch(/BSD 2-Clause/);
    for (const run of readdirSync(join(real, 'sieve')).filter((n) => statSync(join(real, 'sieve', n)).isDirectory())) {
      expect(readFileSync(join(real, 'sieve', run, 'SOURCE.txt'), 'utf8'), run).toMatch(/github\.com\/sieve-project\/sieve @ [0-9a-f]{40}/);
    }
  });
});

describe('deploy/sidecar.yaml', () => {
  const docs = parseAllDocuments(readFileSync(join(root, 'deploy/sidecar.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const deployment = docs.find((d) => d?.kind === 'Deployment');
  const containers = (deployment?.spec?.template?.spec?.containers ?? []) as { name: string; args?: string[]; env?: { name: string; value?: string }[] }[];
  const controller = containers.find((c) => c.name !== 'recorder');
  const kreplayEnv = (controller?.env ?? []).map((e) => e.name).filter((n) => n.startsWith('KREPLAY_'));

  it('gives the controller exactly the variables both SDKs read', () => {
    const goSource = readFileSync(join(root, 'sdk/go/reporter.go'), 'utf8');
    const goConst = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"([A-Z_]+)"`).exec(goSource)?.[1];
    expect(goConst('EnvURL')).toBe(envUrl);
    expect(goConst('EnvToken')).toBe(envToken);
    expect(kreplayEnv.sort()).toEqual([envToken, envUrl].sort());
  });

  it("points the SDK at the recorder container's listener", () => {
    const url = controller?.env?.find((e) => e.name === envUrl)?.value ?? '';
    const config = docs.find((d) => d?.kind === 'ConfigMap')?.data?.['recorder.yaml'] as string | undefined;
    const listen = /listen:\s*([0-9.]+):(\d+)/.exec(config ?? '');
    expect(listen, 'the recorder ConfigMap sets server.listen').not.toBeNull();
    expect(new URL(url).port).toBe(listen![2]);
    expect(new URL(url).pathname).toBe('/v1/records');
  });
});
