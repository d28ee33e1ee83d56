// What deploy/Dockerfile would contain, tested without building an image (nothing here can pull node:20): the
// runtime tree is built into a temporary directory exactly as the Dockerfile's stages build it — the COPY lines of
// the build stage, `tsc -p tsconfig.build.json`, `npm prune --omit=dev`, then the runtime stage's COPY --from=build
// lines — and `kreplay record` runs from it with the image's ENV, WORKDIR and ENTRYPOINT, as the image's USER
// (uid 1000) when this test runs as root, against the real API server. A runtime import of a dev-only package, a
// file the runtime stage does not copy (a migration, bin/) or a permission problem fails here.
// Also: the kustomize base (deploy/kustomization.yaml) passes a server-side dry run.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.js';
import { eventually, useE2e } from './harness.js';
import { freePort, recorderHealth } from './recorder-process.js';

const e2e = useE2e('image');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kubectl = '/usr/bin/kubectl';

interface Stage {
  from: string;
  workdir: string;
  /** [source, destination], relative to the build context or to the named stage's WORKDIR. */
  copies: { from?: string; srcs: string[]; dest: string }[];
  runs: string[];
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
}

/** The Dockerfile's stages, with the instructions this test follows (FROM, WORKDIR, COPY, RUN, ENV, USER, ENTRYPOINT). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages[stages.length - 1];
    switch (instruction) {
      case 'FROM':
        stages.push({ from: args, workdir: '/', copies: [], runs: [], env: {} });
        break;
      case 'WORKDIR':
        stage!.workdir = args;
        break;
      case 'COPY': {
        const from = /^--from=(\S+)\s+/.exec(args);
        const words = (from ? args.slice(from[0].length) : args).split(/\s+/);
        stage!.copies.push({ ...(from ? { from: from[1]! } : {}), srcs: words.slice(0, -1), dest: words.at(-1)! });
        break;
      }
      case 'RUN':
        stage!.runs.push(args);
        break;
      case 'ENV': {
        const m = /^(\w+)=(?:"([^"]*)"|(\S*))$/.exec(args);
        if (m) stage!.env[m[1]!] = m[2] ?? m[3] ?? '';
        break;
      }
      case 'USER':
        stage!.user = args;
        break;
      case 'ENTRYPOINT':
        stage!.entrypoint = JSON.parse(args) as string[];
        break;
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(path.join(repoRoot, 'deploy/Dockerfile'), 'utf8'));
const build = dockerfile[0]!;
const runtime = dockerfile[dockerfile.length - 1]!;
const asRoot = process.getuid?.() === 0;
const [uid, gid] = (runtime.user ?? '0:0').split(':').map(Number) as [number, number];

let work: string;
let app: string;

/** Where a path inside the image is in this test's tree. */
const inApp = (imagePath: string) => path.join(app, path.relative(runtime.workdir, imagePath));

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'kreplay-image-'));
  chmodSync(work, 0o755);
  const src = path.join(work, 'src');
  app = path.join(work, 'app');
  mkdirSync(src);
  mkdirSync(app);
  // The build stage: its COPY lines from the build context (the repository).
  for (const copy of build.copies) {
    // `COPY a b ./` puts a and b in the WORKDIR; `COPY model model` copies a directory to that name.
    for (const s of copy.srcs) {
      const into = copy.dest.endsWith('/') ? path.join(src, copy.dest, path.basename(s)) : path.join(src, copy.dest);
      cpSync(path.join(repoRoot, s), into, { recursive: true });
    }
  }
  // `npm ci --ignore-scripts && npm rebuild better-sqlite3`: this checkout's node_modules is that install for this
  // lockfile and this Node (the registry's better-sqlite3 build); copied, not linked, so the prune below leaves it be.
  cpSync(realpathSync(path.join(repoRoot, 'node_modules')), path.join(src, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  // `npx tsc -p tsconfig.build.json && npm prune --omit=dev`
  expect(build.runs.at(-1)).toBe('npx tsc -p tsconfig.build.json && npm prune --omit=dev');
  execFileSync(path.join(src, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: src, stdio: 'pipe' });
  execFileSync('npm', ['prune', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: src, stdio: 'pipe' });
  // The runtime stage: only what it copies from the build stage.
  for (const copy of runtime.copies) {
    expect(copy.from).toBe('build');
    for (const s of copy.srcs) {
      const from = path.join(src, path.relative(build.workdir, s));
      cpSync(from, copy.dest.endsWith('/') ? path.join(app, copy.dest, path.basename(s)) : path.join(app, copy.dest), { recursive: true });
    }
  }
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the image deploy/Dockerfile builds', () => {
  it('holds production dependencies only, the compiled CLI, every migration and bin/', () => {
    const modules = readdirSync(path.join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'tsx', 'eslint', 'ink-testing-library', 'playwright-core']) expect(modules, dev).not.toContain(dev);
    expect(existsSync(path.join(app, 'node_modules/@kubernetes/client-node'))).toBe(false);
    for (const dep of Object.keys((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies)) {
      expect(existsSync(path.join(app, 'node_modules', dep)), dep).toBe(true);
    }
    expect(readdirSync(path.join(app, 'migrations'))).toEqual(readdirSync(path.join(repoRoot, 'migrations')));
    expect(existsSync(inApp('/app/bin/kreplay.js'))).toBe(true);
    expect(existsSync(path.join(app, 'dist/cli/run.js'))).toBe(true);
    // No test code in the image.
    const files = readdirSync(path.join(app, 'dist'), { recursive: true }) as string[];
    expect(files.filter((f) => /\.test\.js$|\/testing\//.test(f))).toEqual([]);
  });

  it('holds what the compiled CLI reads at run time: kreplay demo --zoo opens its recordings', () => {
    const db = path.join(work, 'demo.db');
    const [, ...entryArgs] = runtime.entrypoint!;
    const out = execFileSync(process.execPath, [...entryArgs.map((arg) => (arg.startsWith(`${runtime.workdir}/`) ? inApp(arg) : arg)), '--db', db, 'demo', '--zoo'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...runtime.env },
      encoding: 'utf8',
    });
    expect(out).toContain('zoo-hot-loop');
    expect(out).toContain('hot-loop');
  });

  it(`runs kreplay record as ${runtime.user ?? 'root'}${asRoot ? '' : ' (not root here: as this user)'} against the real API server`, async () => {
    // What uid 1000 can read: the API server's CA inline, a data directory it owns (the pod's fsGroup volume).
    const data = path.join(work, 'data');
    mkdirSync(data);
    const ca = readFileSync(e2e.cluster.paths.caCert);
    const admin = readFileSync(e2e.cluster.paths.kubeconfig, 'utf8');
    const token = /token: (\S+)/.exec(admin)![1]!;
    const kubeconfig = path.join(data, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: ${e2e.cluster.server}\n    certificate-authority-data: ${ca.toString('base64')}\nusers:\n- name: admin\n  user:\n    token: ${token}\ncontexts:\n- name: e2e\n  context: {cluster: e2e, user: admin}\ncurrent-context: e2e\n`);
    if (asRoot) {
      chownSync(data, uid, gid);
      chownSync(kubeconfig, uid, gid);
    }
    const port = await freePort();
    const [node, ...entryArgs] = runtime.entrypoint!;
    expect(node).toBe('node');
    const child = spawn(process.execPath, [...entryArgs.map((arg) => (arg.startsWith(`${runtime.workdir}/`) ? inApp(arg) : arg)), '--db', path.join(data, 'kreplay.db'), 'record', 'cm', '-n', e2e.namespace, '--kubeconfig', kubeconfig, '-s', 'image', '--listen', `127.0.0.1:${port}`], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: data, ...runtime.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid, gid } : {}),
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // A process that cannot start (a bad NODE_OPTIONS, a missing module) fails at once, with what it said.
      await Promise.race([
        eventually(async () => {
          const readyz = await recorderHealth(port);
          if (readyz?.status !== 200) throw new Error(`not ready yet\n${log.slice(-2000)}`);
        }, 60_000, 500),
        exited.then((code) => {
          throw new Error(`kreplay record exited with ${code} before it was ready:\n${log.slice(-3000)}`);
        }),
      ]);
      const cm = await e2e.cluster.core.createNamespacedConfigMap({ namespace: e2e.namespace, body: { metadata: { name: 'from-image' }, data: { a: '1' } } });
      await eventually(async () => {
        const store = openStore(path.join(data, 'kreplay.db'), { readonly: true });
        try {
          const session = store.findSession('image')!;
          if (![...store.records(session.id)].some((r) => r.record === 'watch' && r.resourceVersion === cm.metadata?.resourceVersion)) throw new Error('not recorded yet');
        } finally {
          store.close();
        }
      }, 30_000, 250);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, log).toBe(0);
    if (asRoot) {
      // Written by the image's user, not by root.
      const owner = execFileSync('stat', ['-c', '%u', path.join(data, 'kreplay.db')], { encoding: 'utf8' }).trim();
      expect(Number(owner)).toBe(uid);
    }
  }, 120_000);
});

describe('the kustomize base deploy/kustomization.yaml', () => {
  it('builds the sidecar and passes a server-side dry run', () => {
    const env = { ...process.env, KUBECONFIG: e2e.cluster.paths.kubeconfig };
    const built = execFileSync(kubectl, ['kustomize', path.join(repoRoot, 'deploy')], { env, encoding: 'utf8' });
    expect(built).toContain('kind: Deployment');
    expect(built).toContain('name: kreplay-recorder');
    // The namespace the base deploys into must exist for a server-side dry run (kubectl apply -k needs it too).
    const namespace = /namespace: (\S+)/.exec(built)![1]!;
    execFileSync(kubectl, ['create', 'namespace', namespace, '--dry-run=client', '-o', 'yaml'], { env });
    try {
      execFileSync(kubectl, ['create', 'namespace', namespace], { env, stdio: 'pipe' });
    } catch {
      // already there
    }
    try {
      const out = execFileSync(kubectl, ['apply', '-k', path.join(repoRoot, 'deploy'), '--dry-run=server'], { env, encoding: 'utf8' });
      expect(out).toMatch(/deployment\.apps\/foo-operator (created|configured|unchanged) \(server dry run\)/);
      expect(out).toMatch(/configmap\/kreplay-recorder/);
    } finally {
      execFileSync(kubectl, ['delete', 'namespace', namespace, '--wait=false'], { env, stdio: 'pipe' });
    }
  });
});
