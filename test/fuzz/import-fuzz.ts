import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importFile, type ImportFormat } from '../../importers/index.js';
import { openStore } from '../../store/index.js';
import { Random, withHostile } from './random.js';

/**
 * Hostile files for every importer format (importers/import-file.ts importFormats): good records with bad values
 * between them — truncated and binary lines, values of another format, names Kubernetes never sends, control
 * characters — imported without --strict into a real store. Each import must keep every good record, report every bad
 * one as FILE:LINE, and never throw.
 */
export interface ImportFuzzResult {
  readonly files: number;
  readonly problems: number;
  readonly wrong: string[];
}

const stamp = '2026-12-06T10:00:00.000Z';

function goodValue(format: ImportFormat, n: number): string {
  switch (format) {
    case 'ndjson':
      return JSON.stringify({ record: 'delivery', observedAt: stamp, origin: 'ingest', controller: 'web-operator', handler: 'add', object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: `good-${n}` }, resourceVersion: String(n + 1) });
    case 'audit':
      return JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: `audit-${n}`,
        stage: 'ResponseComplete',
        verb: 'update',
        user: { username: 'system:serviceaccount:shop:web-operator' },
        objectRef: { resource: 'deployments', namespace: 'shop', name: `good-${n}`, apiGroup: 'apps', apiVersion: 'v1' },
        responseStatus: { code: 200 },
        stageTimestamp: stamp,
      });
    case 'kubectl-watch':
      return JSON.stringify({ type: 'MODIFIED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `good-${n}`, namespace: 'shop', uid: `uid-${n}`, resourceVersion: String(n + 1) }, data: { k: 'v' } } });
  }
}

/** A bad value for the format: each must be reported as a problem on its own line, and nothing else lost. */
function badValue(random: Random, format: ImportFormat, n: number): string {
  const good = goodValue(format, n);
  // JSON.stringify escapes control characters and lone surrogates, as a Go encoder would write them.
  const renamed = (name: string) => good.replace(JSON.stringify(`good-${n}`), JSON.stringify(name));
  const cases: (() => string)[] = [
    () => good.slice(0, random.int(1, good.length - 1)),
    // Binary: bytes that are no JSON structure (quotes and brackets would make it a cut-off value instead).
    () => `\u00ff${random.bytes(random.int(1, 200)).toString('latin1').replace(/[\n{}[\]"]/g, ' ')}`,
    () => renamed('x'.repeat(random.pick([254, 20_000]))),
    () => renamed(withHostile(random, 'web')),
    () => renamed(random.pick(['a/b', '50%', '..'])),
    () => good.replace('"shop"', '"Shop_1"'),
    () => goodValue(format === 'ndjson' ? 'audit' : 'ndjson', n),
    () => '[1,2,3]',
  ];
  return random.pick(cases)();
}

export async function fuzzImports(options: { count: number; seed: number; dir: string }): Promise<ImportFuzzResult> {
  const random = new Random(options.seed);
  const formats: ImportFormat[] = ['ndjson', 'audit', 'kubectl-watch'];
  const wrong: string[] = [];
  let problems = 0;
  let files = 0;
  const store = openStore(join(options.dir, 'imports.db'));
  try {
    for (let n = 0; n < options.count; n += 1) {
      const format = formats[n % formats.length]!;
      const lines: string[] = [];
      const goods: string[] = [];
      const bad = new Set<number>();
      const size = random.int(2, 12);
      for (let i = 0; i < size; i += 1) {
        if (i > 0 && random.chance(0.4)) {
          bad.add(lines.length + 1);
          lines.push(badValue(random, format, n * 100 + i));
        } else {
          goods.push(`good-${n * 100 + i}`);
          lines.push(goodValue(format, n * 100 + i));
        }
      }
      const file = join(options.dir, `input-${n}.${format}`);
      // Sometimes cut off mid-value at the end, as a writer killed mid-line leaves it.
      const truncated = random.chance(0.2);
      const text = truncated ? `${lines.join('\n')}\n${goodValue(format, 99_999).slice(0, 30)}` : `${lines.join('\n')}\n`;
      if (truncated) bad.add(lines.length + 1);
      writeFileSync(file, text);
      files += 1;
      let outcome;
      try {
        outcome = await importFile(store, { format, session: `fuzz-${n}`, input: { path: file }, toolVersion: 'fuzz' });
      } catch (error) {
        wrong.push(`${file}: threw ${(error as Error).stack ?? String(error)}`);
        continue;
      }
      if (!outcome.ok) {
        wrong.push(`${file}: ${outcome.reason}: ${outcome.message}`);
        continue;
      }
      const { summary } = outcome;
      problems += summary.problemCount;
      // A cut-off value is reported once for the lines it ran over: "(skipped lines 5-7)", or up to the next value.
      const lineNumbers = summary.problems.flatMap((p) => {
        const match = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): .+`).exec(p);
        if (!match) {
          wrong.push(`${file}: a problem without FILE:LINE: ${p.slice(0, 200)}`);
          return [];
        }
        const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
        const range = /\(skipped lines (\d+)-(\d+)\)/.exec(p);
        if (range) return lines(Number(range[1]), Number(range[2]));
        // Or up to where the next value began: "a new value starts at line 6 before it was closed".
        const until = /a new value starts at line (\d+) before it was closed/.exec(p);
        if (until) return lines(Number(match[1]), Number(until[1]) - 1);
        return [Number(match[1])];
      });
      for (const line of bad) if (!lineNumbers.includes(line)) wrong.push(`${file}: bad line ${line} not reported (${JSON.stringify(summary.problems).slice(0, 300)})`);
      for (const line of lineNumbers) if (!bad.has(line)) wrong.push(`${file}: line ${line} reported but good`);
      const names = new Set<string>();
      for (const record of store.records(summary.session.id, { withObjects: false })) {
        if (record.record === 'watch' && record.name) names.add(record.name);
        if (record.record === 'delivery' || record.record === 'api') names.add(record.object.name);
        else if (record.record === 'marker') continue;
      }
      for (const name of goods) if (!names.has(name)) wrong.push(`${file}: good record ${name} missing`);
      for (const name of names) if (!goods.includes(name)) wrong.push(`${file}: ${name.slice(0, 60)} imported but bad`);
      store.deleteSession(summary.session.id);
    }
  } finally {
    store.close();
  }
  return { files, problems, wrong };
}
