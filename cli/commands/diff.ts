import type { Command } from 'commander';
import { diffSessions, type DiffObjectRef } from '../../replayer/session-diff.js';
import type { CliContext } from '../context.js';
import { ExitCode, UserError } from '../errors.js';

interface DiffOptions {
  json?: boolean;
  mask?: string[];
  defaultMasks?: boolean;
  mapNamespace?: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const describeRef = (ref: DiffObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

export function registerDiff(program: Command, context: CliContext): void {
  program
    .command('diff')
    .description('compare two sessions by object: objects only one of them ends with, and how their end states differ (uid, resourceVersion, timestamps, managedFields and generated names masked); exit 1 on a difference')
    .argument('<session-a>', 'session name or id (e.g. the fault-free run)')
    .argument('<session-b>', 'session name or id (e.g. the faulted run)')
    .option('--json', 'print JSON (for CI)')
    .option('--mask <path>', 'also ignore this dotted path, e.g. status.lastSyncTime (repeatable)', collect)
    .option('--no-default-masks', 'compare uid, resourceVersion, timestamps, managedFields and generated names too')
    .option('--map-namespace <a=b>', "session A's namespace a is session B's b (runs in different namespaces; repeatable)", collect)
    .action((nameA: string, nameB: string, options: DiffOptions) => {
      const namespaceMap: Record<string, string> = {};
      for (const pair of options.mapNamespace ?? []) {
        const [from, to, ...rest] = pair.split('=');
        if (!from || !to || rest.length) throw new UserError(`--map-namespace takes a=b (namespace in session A = namespace in session B), got "${pair}"`);
        namespaceMap[from] = to;
      }
      const result = context.withStore(
        (store) => {
          const a = context.resolveSession(store, nameA);
          const b = context.resolveSession(store, nameB);
          const filter = { kinds: ['watch', 'marker'] as const };
          return { a, b, diff: diffSessions(store.records(a.id, { filter }), store.records(b.id, { filter }), { masks: options.mask ?? [], noDefaultMasks: options.defaultMasks === false, namespaceMap }) };
        },
        { mustExist: true },
      );
      const { diff } = result;
      if (options.json) {
        context.output.out(`${JSON.stringify({ apiVersion: 'kreplay.dev/v1', kind: 'SessionDiff', a: result.a.name, b: result.b.name, ...diff }, null, 2)}\n`);
      } else {
        const out = context.output.out;
        out(`${result.a.name} vs ${result.b.name}: ${diff.same ? 'the same end state' : `${diff.onlyInA.length} only in ${result.a.name}, ${diff.onlyInB.length} only in ${result.b.name}, ${diff.changed.length} different`} (${diff.equal} object(s) equal)\n`);
        for (const ref of diff.onlyInA) out(`  only in ${result.a.name}: ${describeRef(ref)}\n`);
        for (const ref of diff.onlyInB) out(`  only in ${result.b.name}: ${describeRef(ref)}\n`);
        for (const change of diff.changed) {
          out(`  differs: ${describeRef(change.object)}\n`);
          for (const entry of change.entries.slice(0, 20)) {
            const show = (v: unknown) => (v === undefined ? '∅' : JSON.stringify(v)).slice(0, 120);
            out(`    ${entry.path}: ${show(entry.before)} → ${show(entry.after)}\n`);
          }
          if (change.entries.length > 20) out(`    … ${change.entries.length - 20} more\n`);
        }
        if (diff.notCompared.a.length || diff.notCompared.b.length) {
          out(`  not compared (watched by one session only): ${[...diff.notCompared.a.map((k) => `${k} (${result.a.name})`), ...diff.notCompared.b.map((k) => `${k} (${result.b.name})`)].join(', ')}\n`);
        }
      }
      if (!diff.same) process.exitCode = ExitCode.findings;
    });
}
