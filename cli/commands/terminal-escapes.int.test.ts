import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureFindings, fixtureRecords } from '../../exporters/testing/fixture.js';
import { analyze } from '../../replayer/index.js';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { runCli } from '../testing/run-cli.js';
import { formatReport } from './check.js';

// `show` and `check` print cluster strings; escape sequences in them (a database written before the boundary
// validated names, annotations and messages any client may write) reach the terminal as visible text only.

const tempDir = useTempDir();
const title = '\u001b]0;pwned\u0007';
const clipboard = '\u001b]52;c;cHduZWQ=\u0007';
const raws = ['\u001b]', '\u0007', '\u001b[2J', '\u009b'];

describe('terminal escapes in cluster strings', () => {
  it('show prints names and problems escaped', async () => {
    const db = join(tempDir(), 'kreplay.db');
    const store = openStore(db);
    const session = store.createSession({ name: 'hostile', source: 'import:ndjson', cluster: `kind\u001b[2J`, context: null, toolVersion: 'test', config: {} });
    // Appended straight to the store, as a database written by an older kreplay would hold them.
    const records = fixtureRecords().map((record) => (record.record === 'watch' && record.name ? { ...record, name: `${record.name}${title}`, kind: 'Deployment' } : record));
    store.append(session.id, records);
    store.markPartial(session.id, [`input.ndjson:3: bad name "web${clipboard}"`]);
    store.close();
    const { out, code } = await runCli(['show', 'hostile', '--db', db]);
    expect(code).toBe(0);
    expect(out).toContain('\\x1b]0;pwned\\x07');
    expect(out).toContain('\\x1b]52;c;cHduZWQ=\\x07');
    expect(out).toContain('kind\\x1b[2J');
    for (const raw of raws) expect(out.includes(raw), JSON.stringify(raw)).toBe(false);
  });

  it('check prints object names, messages and evidence escaped', () => {
    const analysis = analyze(fixtureRecords().map((record, i) => ({ ...record, seq: i + 1 })));
    analysis.findings = fixtureFindings.map((finding) => ({
      ...finding,
      message: `${finding.message} ${clipboard}`,
      object: { ...finding.object, name: `web${title}` },
      evidence: finding.evidence.map((e) => ({ ...e, note: `${e.note}\u009b31m` })),
    }));
    const report = formatReport('hostile', analysis, 'error');
    expect(report).toContain('web\\x1b]0;pwned\\x07');
    expect(report).toContain('\\x1b]52;c;cHduZWQ=\\x07');
    expect(report).toContain('\\x9b31m');
    for (const raw of raws) expect(report.includes(raw), JSON.stringify(raw)).toBe(false);
  });
});
