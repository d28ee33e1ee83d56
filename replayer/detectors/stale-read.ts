import { describeObject, type Finding } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import { rvNumber } from '../rv.js';
import type { Fact } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface Data {
  controller: string;
  readRV: string;
  newerRV: string;
  lag: number;
  byOrder: boolean;
}

/**
 * stale-read: a reconcile acted on a resourceVersion older than one the watch had already delivered when it
 * started: the controller's cache was lagging or not synced (no WaitForCacheSync, a second slower informer, or an
 * object passed through a channel).
 *
 * "Older" is decided by delivery order first: the version the reconcile read was delivered by the watch before the
 * newer one (resourceVersions are opaque; the order the watch delivered them in is not). Only when the version
 * read was never delivered (or is no longer remembered) do both RVs get compared as integers, which holds for
 * every etcd-backed API server. A newer version counts only if it was delivered at least `staleReadGrace` before
 * the reconcile started: the recorder's watch and the controller's informer are different connections, and a
 * few milliseconds of difference are not a bug. DELETED deliveries are not versions to read, so they never count.
 */
export function staleRead(): Detector {
  const groups = new FindingGroups<Data>('stale-read', () => ({ controller: '', readRV: '', newerRV: '', lag: 0, byOrder: false }));
  return {
    kind: 'stale-read',
    facts: ['reconcile'],
    observe(fact: Fact, context: DetectorContext) {
      if (fact.type !== 'reconcile' || !fact.object) return;
      const r = fact.record;
      const read = r.observedResourceVersion;
      const started = parseTime(r.startedAt);
      if (!read || started === null) return;
      const object = fact.object;
      const ring = object.delivered;
      const cutoff = started - context.thresholds.staleReadGrace;
      // The numeric RV first, as the fold's delivery ring does: RVs read from the store are fresh strings, and
      // comparing one against every delivery character by character was this detector's whole cost on long sessions.
      const readNum = rvNumber(read);
      // The newest delivery old enough to count, walking the ring from its newest slot back (it is circular once full,
      // fold/deliveries.ts): mostly one or two steps, and a reconcile that read it is done (the usual case).
      const n = ring.size;
      let newestSlot = -1;
      for (let k = 0; k < n; k++) {
        const slot = ring.newest(k);
        const time = ring.time(slot);
        if (ring.isDeleted(slot) || time === null || time > cutoff) continue;
        newestSlot = slot;
        break;
      }
      if (newestSlot === -1 || ring.hasRV(newestSlot, read, readNum)) return;
      const newest = ring.delivery(newestSlot);
      let readSlot = -1;
      for (let slot = 0; slot < n; slot++) {
        if (!ring.isDeleted(slot) && ring.hasRV(slot, read, readNum)) {
          readSlot = slot;
          break;
        }
      }
      let stale: boolean;
      let byOrder = false;
      if (readSlot !== -1) {
        stale = ring.order(readSlot) < newest.order;
        byOrder = true;
      } else {
        stale = !Number.isNaN(readNum) && !Number.isNaN(newest.rvNum) && readNum < newest.rvNum;
      }
      if (!stale) return;
      const g = groups.hit(object, 'stale-cache', {
        evidence: [
          readSlot !== -1 ? ev(ring.seq(readSlot), `the version the reconcile read (resourceVersion ${read})`, read) : null,
          ev(newest.seq, `newer version already delivered (resourceVersion ${newest.rv})`, newest.rv),
          ev(r.seq, `reconcile by ${r.controller} read resourceVersion ${read}`, read),
        ],
      });
      if (!g.data.controller) {
        g.data.controller = r.controller;
        g.data.readRV = read;
        g.data.newerRV = newest.rv;
        g.data.lag = started - (newest.time ?? started);
        g.data.byOrder = byOrder;
      }
    },
    finish(): Finding[] {
      return groups.scratch(() => {
        // Reconcile reports come from the SDK inside the controller under debug.
        for (const g of groups.all()) if (g.data.controller) g.blame = { actor: g.data.controller, via: 'sdk', role: 'controller' };
        return groups.findings((g) => {
          const d = g.data;
          const how = d.byOrder ? 'delivered earlier' : 'numerically older';
          return `${d.controller} reconciled ${describeObject(g.object)} from resourceVersion ${d.readRV} although the watch had delivered resourceVersion ${d.newerRV} ${formatDuration(d.lag)} before the reconcile started (${d.readRV} was ${how})${g.count > 1 ? `; ${g.count} such reconciles` : ''}: its cache was behind.`;
        });
      });
    },
  };
}
