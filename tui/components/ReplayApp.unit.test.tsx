import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { findingKindRegistry } from '../../model/index.js';
import { StoreDataSource } from '../data-source.js';
import type { AnalysisInput } from '../hooks.js';
import { bindings } from '../keymap.js';
import { fixtureFindings, fixtureSession, fixtureStored } from '../testing/fixture.js';
import { MemoryReader } from '../testing/memory-reader.js';
import { ThemeContext, monoTheme } from '../theme.js';
import { ReplayApp } from './ReplayApp.js';

const keys = { down: '\u001b[B', up: '\u001b[A', enter: '\r', escape: '\u001b', tab: '\t', backspace: '\u007f' } as const;
const tick = (ms = 25) => new Promise((resolve) => setTimeout(resolve, ms));

let app: ReturnType<typeof render> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

function open(options: { columns?: number; rows?: number; analysis?: AnalysisInput; initialSeq?: number } = {}) {
  const source = new StoreDataSource(new MemoryReader(fixtureStored()), fixtureSession);
  const analysis = 'analysis' in options ? options.analysis : { findings: fixtureFindings() };
  app = render(
    <ThemeContext.Provider value={monoTheme}>
      <ReplayApp source={source} analysis={analysis} initialSeq={options.initialSeq} size={{ columns: options.columns ?? 100, rows: options.rows ?? 30 }} />
    </ThemeContext.Provider>,
  );
  return app;
}

/** Waits for Ink's next frame (renders are throttled to 30 fps), or a while when the key changes nothing. */
async function settle(before: number, timeout = 400) {
  const started = Date.now();
  while (app!.frames.length === before && Date.now() - started < timeout) await tick(10);
  // Then until no frame came for 60 ms: a throttled trailing render may still be on its way.
  let count = app!.frames.length;
  for (;;) {
    await tick(60);
    if (app!.frames.length === count) return;
    count = app!.frames.length;
  }
}

async function press(...sequence: string[]) {
  for (const key of sequence) {
    const before = app!.frames.length;
    app!.stdin.write(key);
    await settle(before);
  }
}

async function type(text: string) {
  const before = app!.frames.length;
  // One write, as a terminal delivers a paste: Ink passes it to the input handler in one piece.
  app!.stdin.write(text);
  await settle(before);
}

const frame = () => app!.lastFrame() ?? '';
const header = () => frame().split('\n')[0] ?? '';
const cursorLine = () => frame().split('\n').find((line) => line.startsWith('▶')) ?? '';

describe('ReplayApp', { timeout: 30_000 }, () => {
  it('opens on the first record with the position, the timeline and the marker rows', () => {
    open();
    expect(header()).toContain('seq 1');
    expect(header()).toContain('1/18');
    expect(header()).toContain('2026-11-25 10:00:01.000Z');
    expect(frame()).toContain('recorder-started');
    expect(frame()).toMatch(/◆.*list-started/);
    expect(frame()).toContain('deploy default/web');
    expect(header()).toContain('✖ 1');
    expect(header()).toContain('▲ 1');
  });

  it('steps forward and back, and to the start and end', async () => {
    open();
    await press('j', 'j', keys.down);
    expect(header()).toContain('seq 4');
    await press('k');
    expect(header()).toContain('seq 3');
    await press('G');
    expect(header()).toContain('seq 18');
    expect(header()).toContain('18/18');
    await press('j');
    expect(frame()).toContain('last record');
    await press('g');
    expect(header()).toContain('seq 1');
  });

  it('jumps to the next finding, shows its badge, and explains it from the registry', async () => {
    open();
    await press('f');
    expect(header()).toContain('seq 11');
    expect(cursorLine()).toContain('RACE');
    await press('4');
    const info = findingKindRegistry['status-spec-race'];
    expect(frame()).toContain(info.title);
    expect(frame()).toContain('Fix:');
    expect(frame().replace(/\s+/g, ' ')).toContain(info.fix.slice(0, 40));
    await press('f', 'f');
    expect(header()).toContain('seq 13');
    await press('F');
    expect(header()).toContain('seq 12');
  });

  it('shows DUP on the re-delivery, not on the first delivery of the version', async () => {
    const object = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web', uid: 'uid-web' };
    open({
      rows: 40,
      analysis: {
        findings: [
          {
            id: 'duplicate-event:web:9',
            kind: 'duplicate-event',
            severity: 'warning',
            object,
            firstSeq: 9,
            lastSeq: 16,
            resourceVersions: ['102'],
            count: 1,
            message: 'delivered twice',
            rule: 'redelivered',
            evidence: [
              { seq: 9, resourceVersion: '102', note: 'first delivery of MODIFIED at resourceVersion 102' },
              { seq: 16, resourceVersion: '102', note: 'MODIFIED delivered again at resourceVersion 102' },
            ],
          },
        ],
      },
    });
    await press('f');
    const row = (seq: number) => frame().split('\n').find((line) => new RegExp(`^..\\d\\d:\\d\\d\\.\\d{3}\\s+${seq} `).test(line)) ?? '';
    expect(row(9)).not.toBe('');
    expect(row(9)).not.toContain('DUP');
    expect(row(16)).toContain('DUP');
  });

  it('walks a finding\'s evidence with Enter in the findings pane', async () => {
    open();
    await press('4', keys.tab);
    // The worst finding is listed first and selected: Enter goes to its first evidence, again to the next.
    await press(keys.enter);
    expect(header()).toContain('seq 11');
    await press(keys.enter);
    expect(header()).toContain('seq 12');
    expect(frame()).toContain('evidence 2/3');
  });

  it('diffs the object against its previous version with spec, status and metadata separated', async () => {
    open({ initialSeq: 11, rows: 44 });
    expect(frame()).toContain('spec · 1 change');
    expect(frame()).toContain('~ .spec.replicas  3 → 5');
    expect(frame()).toContain('metadata ·');
    expect(frame()).toContain('written by web-operator (Update)');
    expect(frame()).toMatch(/managedFields: \d changes? hidden \(m shows them\)/);
    await press('m');
    expect(frame()).toContain('.metadata.managedFields[0].time');
  });

  it('steps between versions of the selected object with ] and [', async () => {
    open({ initialSeq: 3 });
    await press(']');
    expect(header()).toContain('seq 9');
    expect(frame()).toContain('~ .status.readyReplicas  1 → 3');
    expect(frame()).toContain('written by kube-controller-manager (Update status)');
    await press(']');
    expect(header()).toContain('seq 11');
    await press('[');
    expect(header()).toContain('seq 9');
    await press('-');
    expect(header()).toContain('seq 11');
  });

  it('continues forward and backward to the record that changed a watched field', async () => {
    open({ initialSeq: 3 });
    await press('w');
    expect(frame()).toContain('watch field: .status.');
    await press(keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace);
    await type('.status.readyReplicas');
    await press(keys.enter);
    expect(frame()).toContain('watching .status.readyReplicas of Deployment default/web');
    expect(header()).toContain('◉ .status.readyReplicas = 1');
    await press('c');
    await tick(50);
    expect(header()).toContain('seq 9');
    expect(frame()).toContain('◉ .status.readyReplicas: 1 → 3 at seq 9 rv 102 by kube-controller-manager (Update status)');
    await press('c');
    await tick(50);
    expect(header()).toContain('seq 16');
    expect(frame()).toContain('3 → 2');
    await press('C');
    await tick(50);
    expect(header()).toContain('seq 9');
    await press('C');
    await tick(50);
    expect(header()).toContain('seq 3');
    expect(frame()).toContain('<absent> → 1');
  });

  it('names the audit user behind a watched change when the session has the API request', async () => {
    open({ initialSeq: 9, columns: 160 });
    await press('w', '\u0015');
    await type('.spec.replicas');
    await press(keys.enter, 'c');
    await tick(100);
    expect(header()).toContain('seq 11');
    expect(frame()).toContain('◉ .spec.replicas: 3 → 5 at seq 11 rv 103 by web-operator (Update)');
    expect(frame()).toContain('sa:shop/web-operator at seq 10');
  });

  it('takes keys that arrive together (key repeat, fast typing) one by one', async () => {
    open();
    await press('jjj');
    expect(header()).toContain('seq 4');
    await press('kw\u0015.spec.replicas\r');
    expect(header()).toContain('seq 3');
    expect(header()).toContain('◉ .spec.replicas = 3');
  });

  it('takes kubectl jsonpath in the watch prompt and reports syntax errors with the column', async () => {
    open({ initialSeq: 9, columns: 160 });
    await press('w', ...Array.from({ length: 8 }, () => keys.backspace));
    await type('.status.conditions[?type=Available');
    await press(keys.enter);
    expect(frame()).toContain('expected "]" to close the filter');
    await press(keys.escape);
    await press('w', ...Array.from({ length: 8 }, () => keys.backspace));
    await type('{.status.conditions[?(@.type=="Available")].status}');
    await press(keys.enter);
    expect(header()).toContain('◉ .status.conditions[?type=Available].status = "True"');
  });

  it('filters by kind, type and finding kind, and clears the filter', async () => {
    open();
    await press('&');
    await type('type:DELETED');
    await press(keys.enter);
    await tick(300);
    expect(header()).toContain('seq 17');
    expect(header()).toContain('1/1 filtered');
    await press('&', ...Array.from({ length: 12 }, () => keys.backspace));
    await type('finding:dfsu-gap');
    await press(keys.enter);
    expect(header()).toContain('1/2 filtered');
    await press('&', ...Array.from({ length: 20 }, () => keys.backspace));
    await type('record:nonsense');
    await press(keys.enter);
    expect(frame()).toContain('unknown record kind nonsense');
    await press(...Array.from({ length: 20 }, () => keys.backspace), keys.enter);
    expect(header()).toContain('/18');
    expect(header()).not.toContain('filtered');
  });

  it('filters to the selected object with o, and back', async () => {
    open({ initialSeq: 4 });
    await press('o');
    expect(header()).toContain('filtered');
    await press('j');
    expect(header()).toContain('seq 15');
    await press('o');
    expect(header()).not.toContain('filtered');
  });

  it('searches forward with / and repeats with n and N', async () => {
    open();
    await press('/');
    await type('409');
    await press(keys.enter);
    await tick(50);
    expect(header()).toContain('seq 13');
    await press('g', '/');
    await type('tombstone');
    await press(keys.enter);
    await tick(50);
    expect(header()).toContain('seq 18');
    await press('N');
    await tick(50);
    expect(frame()).toContain('no match before seq 18');
  });

  it('goes to a seq, a relative record count, a time and a percentage', async () => {
    open();
    await press(':');
    await type('14');
    await press(keys.enter);
    expect(header()).toContain('seq 14');
    expect(cursorLine()).toContain('gone');
    await press(':');
    await type('-3');
    await press(keys.enter);
    expect(header()).toContain('seq 11');
    await press(':');
    await type('10:00:05');
    await press(keys.enter);
    expect(header()).toContain('seq 5');
    await press(':');
    await type('+4s');
    await press(keys.enter);
    expect(header()).toContain('seq 9');
    await press(':');
    await type('100%');
    await press(keys.enter);
    expect(header()).toContain('seq 18');
    await press(':');
    await type('99');
    await press(keys.enter);
    expect(frame()).toContain('seq 99 is outside this session');
  });

  it('explains markers: a 410 says what was lost', async () => {
    open({ initialSeq: 14 });
    expect(frame()).toContain('◆ gone (410)');
    expect(frame()).toContain('410 Gone: the resourceVersion the watch resumed from was compacted away');
  });

  it('shows reconcile, API and delivery facts above the object state', async () => {
    open({ initialSeq: 12 });
    expect(frame()).toContain('reconcile error · Conflict · web-operator');
    expect(frame()).toContain('read resourceVersion 102, generation 1');
    await press('j');
    expect(frame()).toContain('update → 409 Conflict · system:serviceaccount:shop:web-operator');
    await press('G');
    expect(frame()).toContain('DeletedFinalStateUnknown tombstone');
  });

  it("lists the object's history and jumps to a version with Enter", async () => {
    open({ initialSeq: 9 });
    await press('3');
    await tick(120);
    expect(frame()).toMatch(/▶\s+9 10:00:09\.000 MODIFIED/);
    expect(frame()).toContain('reconcile ✗');
    await press(keys.tab, keys.down, keys.down, keys.enter);
    expect(header()).toContain('seq 11');
  });

  it('shows the object at the step as YAML with managedFields folded', async () => {
    open({ initialSeq: 9, rows: 50 });
    await press('2');
    expect(frame()).toContain('kind: Deployment');
    expect(frame()).toContain('managedFields: ‹2 entries: web-operator, kube-controller-manager');
  });

  it('lists every key binding on ?', async () => {
    open({ columns: 160, rows: 48 });
    await press('?');
    for (const binding of bindings) expect(frame()).toContain(binding.help);
    await press('x');
    expect(frame()).toContain('Timeline');
  });

  it('fits 80×24 exactly and uses side-by-side panes when wide', async () => {
    open({ columns: 80, rows: 24 });
    let lines = frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    app!.rerender(
      <ThemeContext.Provider value={monoTheme}>
        <ReplayApp source={new StoreDataSource(new MemoryReader(fixtureStored()), fixtureSession)} analysis={{ findings: fixtureFindings() }} size={{ columns: 160, rows: 48 }} />
      </ThemeContext.Provider>,
    );
    await tick();
    lines = frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(47);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(160);
    // Side by side: the timeline title and the detail tabs share the second row.
    expect(lines[1]).toContain('Timeline');
    expect(lines[1]).toContain('1 Diff');
  });

  it('shows the analysis running, then the badges, without blocking the first frame', async () => {
    let finish: (value: { findings: ReturnType<typeof fixtureFindings> }) => void = () => {};
    open({ analysis: () => new Promise((resolve) => (finish = resolve)) });
    expect(header()).toContain('analysing');
    await press('f');
    expect(frame()).toContain('findings are still being computed');
    finish({ findings: fixtureFindings() });
    await tick(300);
    expect(header()).toContain('✖ 1');
    await press('f');
    expect(header()).toContain('seq 11');
  });

  it('quits on q', async () => {
    open();
    await press('q');
    // Ink unmounts: no more frames are written after the exit.
    const frames = app!.frames.length;
    await press('j');
    expect(app!.frames.length).toBe(frames);
  });
});
