import { rmSync } from 'node:fs';
import { openStore } from '../store/index.js';
import { startBenchApi } from './fixtures.js';
import { cpuSeconds, percentile, rssBytes, sleep, startRecorder } from './recorder-process.js';
import type { Figure } from './run.js';
import { benchNumber } from './env.js';

/**
 * Issue 15's burst: the recorder (its own process, the image's settings) on 10,000 ConfigMaps of ~1 KB, at a steady
 * 1,000 events/s, then KREPLAY_BENCH_BURST_RATE (10,000) events/s for KREPLAY_BENCH_BURST_SECONDS (60), with a
 * relist of all 10,000 objects at once halfway through (the fake API server answers the watch with 410 Gone), then
 * back to 1,000/s.
 *
 * - events_lost: updates the fake server made that the session has neither as a watch event nor covered by the
 *   relist (a listed item at that object's later resourceVersion: the API server never sends the versions a relist
 *   skips, a real watch cache does the same);
 * - rss_max during the burst, watch-to-disk p99 of the burst's events (sent → visible to a separate reader);
 * - recovery: seconds after the burst ends until every second's watch-to-disk p99 is back within 1.5× the steady
 *   p99 before the burst (at least 250 ms) and CPU within 1.5× the steady CPU (at least 15 % of a core), for the
 *   rest of the run.
 */
const OBJECTS = 10_000;
const STEADY_RATE = 1_000;

export default async function run(): Promise<Figure[]> {
  const burstRate = benchNumber('KREPLAY_BENCH_BURST_RATE', 10_000);
  const burstSeconds = benchNumber('KREPLAY_BENCH_BURST_SECONDS', 60);
  const steadySeconds = 10;
  const afterSeconds = 40;
  const { dir, dbPath, fake, url, churn } = await startBenchApi('burst', OBJECTS);
  const recorder = await startRecorder({ dir, dbPath, apiUrl: url, resources: 'v1/configmaps', namespaces: 'bench', extraConfig: process.env['KREPLAY_BENCH_CONFIG'] });
  try {
    await recorder.ready();
    await sleep(1000);
    const store = openStore(dbPath, { readonly: true });
    const session = store.findSession('bench')!;
    let lastSeq = store.lastSeq(session.id);

    /** Sent and not seen yet: rv → when and which object; per object its unseen rvs in order. */
    const unseen = new Map<number, { at: number; name: string }>();
    const unseenByName = new Map<string, number[]>();
    const latencies: { sentAt: number; ms: number }[] = [];
    let coalesced = 0;
    let polling = true;
    const forget = (rv: number) => {
      const sent = unseen.get(rv);
      if (!sent) return undefined;
      unseen.delete(rv);
      const list = unseenByName.get(sent.name)!;
      const at = list.indexOf(rv);
      if (at !== -1) list.splice(at, 1);
      return sent;
    };
    const poller = (async () => {
      while (polling) {
        const rows = store.page(session.id, { afterSeq: lastSeq, limit: 20_000, filter: { kinds: ['watch'] } });
        const now = performance.now();
        for (const row of rows) {
          lastSeq = row.seq;
          if (row.record !== 'watch' || row.name === null) continue;
          const rv = Number(row.resourceVersion);
          if (row.origin === 'watch') {
            const sent = forget(rv);
            if (sent) latencies.push({ sentAt: sent.at, ms: now - sent.at });
          } else if (row.origin === 'relist' && row.type === 'ADDED') {
            // The listed state covers every earlier version of the object.
            for (const pending of [...(unseenByName.get(row.name) ?? [])]) if (pending <= rv && forget(pending)) coalesced += 1;
          }
        }
        await sleep(rows.length >= 20_000 ? 0 : 5);
      }
    })();

    const started = performance.now();
    const burstStart = started + steadySeconds * 1000;
    const burstEnd = burstStart + burstSeconds * 1000;
    const end = burstEnd + afterSeconds * 1000;
    const rateAt = (t: number) => (t >= burstStart && t < burstEnd ? burstRate : STEADY_RATE);
    const rss: { t: number; bytes: number }[] = [];
    const cpu: { t: number; seconds: number }[] = [{ t: started, seconds: cpuSeconds(recorder.pid)! }];
    let sentInBurst = 0;
    let relisted = false;
    let due = 0;
    let last = started;
    let nextSample = started;
    while (performance.now() < end) {
      const now = performance.now();
      due += ((now - last) / 1000) * rateAt(now);
      last = now;
      for (; due >= 1; due -= 1) {
        const object = churn.next();
        const rv = Number(object.metadata!.resourceVersion);
        const name = object.metadata!.name!;
        unseen.set(rv, { at: performance.now(), name });
        let list = unseenByName.get(name);
        if (!list) unseenByName.set(name, (list = []));
        list.push(rv);
        if (now >= burstStart && now < burstEnd) sentInBurst += 1;
      }
      if (!relisted && now >= (burstStart + burstEnd) / 2) {
        relisted = true;
        fake.compact();
        fake.expireWatches();
      }
      if (now >= nextSample) {
        rss.push({ t: now, bytes: rssBytes(recorder.pid) });
        if (rss.length % 4 === 0) cpu.push({ t: now, seconds: cpuSeconds(recorder.pid)! });
        nextSample += 250;
      }
      await sleep(5);
    }
    for (const deadline = Date.now() + 30_000; unseen.size > 0 && Date.now() < deadline; ) await sleep(100);
    polling = false;
    await poller;
    store.close();

    const p99Of = (from: number, to: number) =>
      percentile(
        latencies.filter((l) => l.sentAt >= from && l.sentAt < to).map((l) => l.ms).sort((a, b) => a - b),
        99,
      );
    const cpuShare = (from: number, to: number) => {
      const a = cpu.filter((c) => c.t >= from).at(0);
      const b = cpu.filter((c) => c.t <= to).at(-1);
      return a && b && b.t > a.t ? ((b.seconds - a.seconds) / ((b.t - a.t) / 1000)) * 100 : Number.NaN;
    };
    const steadyP99 = p99Of(started + 2000, burstStart);
    const steadyCpu = cpuShare(started + 2000, burstStart);
    const latencyLimit = Math.max(250, steadyP99 * 1.5);
    const cpuLimit = Math.max(15, steadyCpu * 1.5);
    const recoveredAfter = (k: number) => {
      for (let t = burstEnd + k * 1000; t + 1000 <= end - 1000; t += 1000) {
        if (p99Of(t, t + 1000) > latencyLimit || cpuShare(t, t + 2000) > cpuLimit) return false;
      }
      return true;
    };
    let recovery = Number.NaN;
    for (let k = 0; k < afterSeconds - 2; k += 1) {
      if (recoveredAfter(k)) {
        recovery = k;
        break;
      }
    }
    const burstRss = rss.filter((s) => s.t >= burstStart && s.t < burstEnd + 5000).map((s) => s.bytes);
    const afterRss = rss.filter((s) => s.t >= end - 5000).map((s) => s.bytes);
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    console.error(
      `# burst: ${churn.sent} events (${sentInBurst} in the burst, ${Math.round(sentInBurst / burstSeconds)}/s), ${latencies.length} seen as watch events, ${coalesced} covered by the relist, ${unseen.size} missing; ` +
        `steady p99 ${Math.round(steadyP99)} ms, CPU ${steadyCpu.toFixed(1)} %; burst CPU ${cpuShare(burstStart, burstEnd).toFixed(1)} %`,
    );
    return [
      { name: 'recorder.burst.events_per_second', value: Math.round(sentInBurst / burstSeconds), unit: 'events/s' },
      { name: 'recorder.burst.events_lost', value: unseen.size, unit: 'events' },
      { name: 'recorder.burst.covered_by_relist', value: coalesced, unit: 'events' },
      { name: 'recorder.burst.rss_max', value: mb(Math.max(...burstRss)), unit: 'MB' },
      { name: 'recorder.burst.rss_after', value: mb(Math.max(...afterRss)), unit: 'MB' },
      { name: 'recorder.burst.watch_to_disk_p99', value: Math.round(p99Of(burstStart, burstEnd)), unit: 'ms' },
      { name: 'recorder.burst.cpu', value: Math.round(cpuShare(burstStart, burstEnd) * 10) / 10, unit: '% of a core' },
      { name: 'recorder.burst.steady_watch_to_disk_p99', value: Math.round(steadyP99), unit: 'ms' },
      { name: 'recorder.burst.recovery', value: recovery, unit: 's' },
    ];
  } finally {
    await recorder.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
