import type { Finding } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact } from '../state.js';
import type { Redelivery } from './controller-handlers.js';
import type { Detector, DetectorContext, Shared } from './types.js';

interface Data {
  types: Map<string, number>;
  staleResume: { seq: number; rv: string } | null;
  firstRV: string;
}

interface HandlerData {
  controller: string;
  handlers: Map<string, number>;
  older: number;
  afterDelete: number;
  first: { rv: string | null; newestRV: string } | null;
}

/**
 * duplicate-event: the watch delivered an object version (uid + resourceVersion + event type) it had already
 * delivered, outside a relist and outside an informer resync. The fold classifies every delivery; relist items
 * and initial events that repeat a version are 'redelivery', resyncs are 'resync', and only the rest are
 * duplicates. A re-created object has a new uid, so it is a new object, never a duplicate.
 *
 * handler-redelivered: the controller's own handlers (SDK `delivery` records) were given a version of an object they
 * had already been given, which no client-go informer does (controller-handlers.ts says why, with the sources): an
 * add or update at a resourceVersion no newer than the newest they had, or a delete of an object already deleted.
 * Resyncs (old == new) and the re-add at the newest version that a restarted process's initial list hands are not.
 */
export function duplicateEvent(shared: Shared): Detector {
  const groups = new FindingGroups<Data>('duplicate-event', () => ({ types: new Map(), staleResume: null, firstRV: '' }));
  const handlerGroups = new FindingGroups<HandlerData>('duplicate-event', () => ({ controller: '', handlers: new Map(), older: 0, afterDelete: 0, first: null }));
  shared.handlerHistory().listen({
    redelivered(r: Redelivery) {
      const { record } = r;
      const what = record.handler === 'delete' ? 'OnDelete' : record.handler === 'add' ? 'OnAdd' : 'OnUpdate';
      const g = handlerGroups.hit(r.object ?? record.object, 'handler-redelivered', {
        evidence: [
          ev(r.newestSeq, `${record.controller}'s handlers were given resourceVersion ${r.newestRV}`, r.newestRV),
          ev(
            record.seq,
            r.afterDelete
              ? `${what} again after the object was handed to OnDelete${record.resourceVersion ? ` (resourceVersion ${record.resourceVersion})` : ''}`
              : `${what} handed resourceVersion ${record.resourceVersion}${r.older ? `, older than ${r.newestRV}` : ' again'}${record.handler === 'update' && record.oldResourceVersion ? ` (old ${record.oldResourceVersion})` : ''}`,
            record.resourceVersion,
          ),
        ],
      });
      g.data.controller ||= record.controller;
      g.data.handlers.set(record.handler, (g.data.handlers.get(record.handler) ?? 0) + 1);
      if (r.older) g.data.older++;
      if (r.afterDelete) g.data.afterDelete++;
      g.data.first ??= { rv: record.resourceVersion, newestRV: r.newestRV };
    },
  });
  return {
    kind: 'duplicate-event',
    // Handler calls reach it through the shared HandlerHistory.
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
      return handlerGroups.scratch(() =>
        groups.scratch(() => {
          for (const g of handlerGroups.all()) g.blame = { actor: g.data.controller, via: 'sdk', role: 'controller' };
          const fromHandlers = handlerGroups.findings((g) => {
            const d = g.data;
            const calls = [...d.handlers].map(([h, n]) => `${n}× ${h}`).join(', ');
            const older = d.older ? ` ${d.older} of them older than the newest they already had (first resourceVersion ${d.first?.rv} after ${d.first?.newestRV}): history re-sent.` : '';
            const deleted = d.afterDelete ? ` ${d.afterDelete} came after the object had been handed to OnDelete.` : '';
            return `${d.controller}'s event handlers were given versions of this object they had already been given (${calls}).${older}${deleted} A client-go informer never does this: after a disconnect its reflector resumes from the newest resourceVersion it saw, a relist hands only the current state and an informer resync hands old == new. A watch resumed from a stale resourceVersion (a hand-rolled list/watch loop) re-delivers history; a handler that is not idempotent acts on it twice.`;
          });
          const fromWatch = groups.findings((g) => {
            const what = [...g.data.types].map(([type, n]) => `${n}× ${type}`).join(', ');
            const cause = g.data.staleResume
              ? ` The watch was resumed at seq ${g.data.staleResume.seq} from resourceVersion ${g.data.staleResume.rv}, older than the newest it had delivered, so the server re-sent history.`
              : ' No relist or resync explains it.';
            return `The watch delivered versions of this object it had already delivered (${what}, first at resourceVersion ${g.data.firstRV}).${cause} A handler that is not idempotent acts on them twice.`;
          });
          return [...fromWatch, ...fromHandlers].sort((a, b) => a.firstSeq - b.firstSeq);
        }),
      );
    },
  };
}
