import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../model/index.js';
import { StoreDataSource } from '../data-source.js';
import { fixtureFindings, fixtureSession, fixtureStored } from '../testing/fixture.js';
import { MemoryReader } from '../testing/memory-reader.js';
import { ThemeContext, monoTheme } from '../theme.js';
import { ReplayApp } from './ReplayApp.js';

// Cluster strings with terminal escape sequences (a name from a database written before validation, an annotation
// any client may write) are drawn as their visible escapes, never sent to the terminal raw.

const title = '\u001b]0;pwned\u0007';
const clear = '\u001b[2J';
let app: ReturnType<typeof render> | undefined;
afterEach(() => app?.unmount());

function hostile(): StoredRecord[] {
  return fixtureStored().map((record) => {
    if (record.record !== 'watch' || !record.name || !record.object) return record;
    const metadata = { ...record.object.metadata, name: `${record.name}${title}`, annotations: { note: `see${clear}here` } };
    return { ...record, name: `${record.name}${title}`, object: { ...record.object, metadata } };
  });
}

describe('the TUI and terminal escapes', () => {
  it('shows escape sequences in names as text, and no frame carries one raw', async () => {
    const source = new StoreDataSource(new MemoryReader(hostile()), fixtureSession);
    app = render(
      <ThemeContext.Provider value={monoTheme}>
        <ReplayApp source={source} analysis={{ findings: fixtureFindings() }} size={{ columns: 160, rows: 40 }} />
      </ThemeContext.Provider>,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const frames = app.frames.join('\n');
    expect(frames).toContain('default/web\\x1b]0;pwn');
    for (const raw of ['\u001b]', '\u0007', clear]) expect(frames.includes(raw), JSON.stringify(raw)).toBe(false);
  });
});
