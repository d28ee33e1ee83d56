import type { Finding } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact } from '../state.js';
import type { Detector, DetectorContext } from './types.js';

interface Data {
  types: Map<string, number>;
  staleResume: { seq: number; rv: string } | null;
  firstRV: string;
}

/**
 * duplicate-event: the watch delivered an object version (uid + resourceVersion + event type) it had already
 * delivered, outside a relist and outside an informer resync. The fold classifies every delivery; relist items
 * and initial events that repeat a version are 'redelivery', resyncs are 'resync', and only the rest are
 * duplicates. A re-created object has a new uid, so it is a new object, never a duplicate.
 */
export function duplicateEvent(): Detector {
  const groups = new FindingGroups<Data>('duplicate-event', () => ({ types: new Map(), staleResume: null, firstRV: '' }));
  return {
    kind: 'duplicate-event',
    facts: ['delivery'],
    observe(fact: Fact) {
      if (fact.type !== 'delivery' || fact.classification !== 'duplicate') return;
      const { record, original, stream } = fact;
      const stale = stream.staleResume;
      const group = groups.hit(fact.object, stale ? 'stale-resume' : 'redelivered', {
        evidence: [
          ev(original?.seq, `first delivery of ${record.type} at resourceVersion ${record.resourceVersion}`, record.resourceVersion),
          stale && ev(stale.seq, `watch resumed from resourceVersion ${stale.rv}, older than what it had already delivered`, stale.rv),
          ev(record.seq, `${record.type} delivered again at resourceVersion ${record.resourceVersion}`, record.resourceVersion),
        ],
      });
      group.data.types.set(record.type, (group.data.types.get(record.type) ?? 0) + 1);
      group.data.staleResume ??= stale;
      if (!group.data.firstRV) group.data.firstRV = record.resourceVersion;
    },
    finish(_context: DetectorContext): Finding[] {
      return groups.findings((g) => {
        const what = [...g.data.types].map(([type, n]) => `${n}× ${type}`).join(', ');
        const cause = g.data.staleResume
          ? ` The watch was resumed at seq ${g.data.staleResume.seq} from resourceVersion ${g.data.staleResume.rv}, older than the newest it had delivered, so the server re-sent history.`
          : ' No relist or resync explains it.';
        return `The watch delivered versions of this object it had already delivered (${what}, first at resourceVersion ${g.data.firstRV}).${cause} A handler that is not idempotent acts on them twice.`;
      });
    },
  };
}
