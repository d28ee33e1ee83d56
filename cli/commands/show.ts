import type { Command } from 'commander';
import { ObjectTally, apiVersionOf, namespacedName, terminalText } from '../../model/index.js';
import type { ObjectSummary } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { formatSpan, table } from '../format.js';

interface ResourceSummary {
  apiVersion: string;
  kind: string;
  objects: number;
  records: number;
  versions: number;
  deleted: number;
}

/** Per-resource totals, in the order kinds first appear. */
export function summarizeResources(objects: readonly ObjectSummary[]): ResourceSummary[] {
  const byKind = new Map<string, ResourceSummary>();
  // Objects are counted as every command counts them (model/objects.ts), kind by kind.
  const tallies = new Map<string, ObjectTally>();
  for (const object of objects) {
    const apiVersion = apiVersionOf(object.group, object.version);
    const key = `${object.group}/${object.kind}`;
    const summary = byKind.get(key) ?? { apiVersion, kind: object.kind, objects: 0, records: 0, versions: 0, deleted: 0 };
    let tally = tallies.get(key);
    if (!tally) tallies.set(key, (tally = new ObjectTally()));
    tally.add(object);
    summary.objects = tally.count;
    summary.records += object.recordCount;
    summary.versions += object.versionCount;
    summary.deleted += object.lastEventType === 'DELETED' ? 1 : 0;
    byKind.set(key, summary);
  }
  return [...byKind.values()];
}

export function registerShow(program: Command, context: CliContext): void {
  program
    .command('show')
    .description('summarize a session per resource and per object')
    .argument('<session>', 'session name or id')
    .option('--json', 'print JSON instead of tables')
    .action((name: string, options: { json?: boolean }) => {
      context.withStore((store) => {
        const session = context.resolveSession(store, name);
        const summary = store.listSessions().find((s) => s.id === session.id)!;
        const objects = store.objects(session.id);
        const resources = summarizeResources(objects);
        if (options.json) {
          context.output.out(`${JSON.stringify({ session: summary, resources, objects }, null, 2)}\n`);
          return;
        }
        const out = context.output.out;
        out(`Session ${summary.name} (${summary.source})\n`);
        out(`  span:     ${formatSpan(summary.firstObservedAt ?? summary.startedAt, summary.lastObservedAt ?? summary.endedAt)}\n`);
        out(`  records:  ${summary.recordCount} (${Object.entries(summary.countsByKind).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})\n`);
        if (summary.cluster || summary.context) out(`  cluster:  ${terminalText(`${summary.cluster ?? '?'}${summary.context ? ` (context ${summary.context})` : ''}`)}\n`);
        if (summary.clockSkewedRecords > 0) {
          out(`  clock:    ${summary.clockSkewedRecords} record(s) sent with timestamps more than the allowed skew from their receipt (clockSkew in --json and exports); left out of the span\n`);
        }
        if (summary.partial) {
          out(`  PARTIAL:  ${summary.problems.length} problem(s) while recording or importing; first:\n`);
          for (const problem of summary.problems.slice(0, 5)) out(`            ${terminalText(problem)}\n`);
        }
        out('\nResources\n');
        out(table(['APIVERSION', 'KIND', 'OBJECTS', 'VERSIONS', 'DELETED', 'RECORDS'], resources.map((r) => [r.apiVersion, r.kind, `${r.objects}`, `${r.versions}`, `${r.deleted}`, `${r.records}`])));
        out('\nObjects\n');
        out(
          table(
            ['KIND', 'NAME', 'UID', 'VERSIONS', 'RECORDS', 'SEQS', 'LAST'],
            objects.map((o) => [o.kind, namespacedName(o.namespace, o.name), o.uid ?? '-', `${o.versionCount}`, `${o.recordCount}`, `${o.firstSeq}-${o.lastSeq}`, o.lastEventType ?? '-']),
          ),
        );
      }, { mustExist: true });
    });
}
