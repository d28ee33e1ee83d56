import { describe, expect, it } from 'vitest';
import { JsonValueSplitter, type SplitEvent } from './json-splitter.js';

/** kubectl's JSONPrinter: json.MarshalIndent(obj, "", "    ") plus a newline. */
const pretty = (value: unknown) => `${JSON.stringify(value, null, 4)}\n`;

function split(chunks: string | readonly string[]): SplitEvent[] {
  const splitter = new JsonValueSplitter();
  const events: SplitEvent[] = [];
  for (const chunk of typeof chunks === 'string' ? [chunks] : chunks) events.push(...splitter.push(chunk));
  events.push(...splitter.end());
  return events;
}

/** Values parsed, errors as `line: problem`, in order. */
function summary(events: readonly SplitEvent[]): unknown[] {
  return events.map((e) => (e.kind === 'value' ? { line: e.line, value: JSON.parse(e.text) as unknown } : `${e.line}: ${e.problem}`));
}

function charByChar(text: string): string[] {
  return [...text];
}

const event = (type: string, name: string, rv: string) => ({
  type,
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: rv }, data: { 'app.yaml': 'a: {b}\n"quoted" [x]\\' } },
});

describe('JsonValueSplitter', () => {
  it('splits pretty-printed values back to back and reports the line each starts on', () => {
    const text = pretty(event('ADDED', 'a', '1')) + pretty(event('MODIFIED', 'a', '2')) + pretty(event('DELETED', 'a', '3'));
    const lines = pretty(event('ADDED', 'a', '1')).split('\n').length - 1;
    const events = split(text);
    expect(summary(events)).toEqual([
      { line: 1, value: event('ADDED', 'a', '1') },
      { line: 1 + lines, value: event('MODIFIED', 'a', '2') },
      { line: 1 + 2 * lines, value: event('DELETED', 'a', '3') },
    ]);
  });

  it('splits one value per line, with CRLF line ends and a byte order mark', () => {
    const text = `\uFEFF${JSON.stringify(event('ADDED', 'a', '1'))}\r\n\r\n${JSON.stringify(event('ADDED', 'b', '2'))}\r\n`;
    expect(summary(split(text))).toEqual([
      { line: 1, value: event('ADDED', 'a', '1') },
      { line: 3, value: event('ADDED', 'b', '2') },
    ]);
  });

  it('gives the same result however the input is chunked (strings, escapes and braces across chunk boundaries)', () => {
    const text = pretty(event('ADDED', 'a', '1')) + JSON.stringify(event('MODIFIED', 'a', '2')) + '\n' + 'garbage line\n' + pretty(event('DELETED', 'a', '3'));
    const whole = split(text);
    expect(split(charByChar(text))).toEqual(whole);
    for (const size of [2, 7, 64, 1000]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(split(chunks)).toEqual(whole);
    }
    expect(whole.filter((e) => e.kind === 'value')).toHaveLength(3);
  });

  it('streams the items of a List one by one, before the List ends, and then the envelope with items emptied', () => {
    const list = {
      apiVersion: 'v1',
      items: [event('x', 'a', '1').object, event('x', 'b', '2').object, event('x', 'c', '3').object],
      kind: 'List',
      metadata: { resourceVersion: '' },
    };
    const text = pretty(list);
    const splitter = new JsonValueSplitter();
    // Everything up to the start of the third item: two items are already out, while the List is still open.
    const cut = text.indexOf('"name": "c"');
    const early = splitter.push(text.slice(0, cut));
    expect(early.map((e) => (e.kind === 'value' ? (JSON.parse(e.text) as { metadata: { name: string } }).metadata.name : e))).toEqual(['a', 'b']);
    const rest = [...splitter.push(text.slice(cut)), ...splitter.end()];
    expect(summary(rest)).toEqual([
      { line: expect.any(Number), value: list.items[2] },
      { line: 1, value: { ...list, items: [] } },
    ]);
    expect((early[0] as { line: number }).line).toBe(4);
  });

  it('streams the items of a compact EventList and of a top-level array', () => {
    const eventList = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [{ auditID: '1' }, { auditID: '2', nested: { items: [1, 2] } }] };
    expect(summary(split(`${JSON.stringify(eventList)}\n[{"a":1},\n{"b":[{"c":2}]}\n]\n`))).toEqual([
      { line: 1, value: { auditID: '1' } },
      { line: 1, value: { auditID: '2', nested: { items: [1, 2] } } },
      { line: 1, value: { ...eventList, items: [] } },
      { line: 2, value: { a: 1 } },
      { line: 3, value: { b: [{ c: 2 }] } },
    ]);
  });

  it('streams only the top-level "items": a nested items field stays inside its object', () => {
    const object = { kind: 'Thing', spec: { items: [{ a: 1 }] }, status: { '"items"': [{ b: 2 }] } };
    expect(summary(split(pretty(object)))).toEqual([{ line: 1, value: object }]);
  });

  it('reports a line of garbage between values and carries on', () => {
    const text = `${JSON.stringify(event('ADDED', 'a', '1'))}\nerror: watch closed: unexpected EOF\n${JSON.stringify(event('ADDED', 'b', '2'))}\n`;
    expect(summary(split(text))).toEqual([
      { line: 1, value: event('ADDED', 'a', '1') },
      '2: not a JSON object: "error: watch closed: unexpected EOF"',
      { line: 3, value: event('ADDED', 'b', '2') },
    ]);
  });

  it('reports a value cut off by the end of the input at the line it starts on', () => {
    const first = pretty(event('ADDED', 'a', '1'));
    const second = pretty(event('MODIFIED', 'a', '2'));
    const events = split(first + second.slice(0, 120));
    const start = first.split('\n').length;
    const end = (first + second.slice(0, 120)).split('\n').length;
    expect(summary(events)).toEqual([{ line: 1, value: event('ADDED', 'a', '1') }, `${start}: truncated JSON value (the input ends before it is closed) (skipped lines ${start}-${end})`]);
    // A cut-off value on one line, then junk to the end: the junk is inside it, and both lines are named.
    expect(summary(split('{"a":1}\n{"b":\n\u00ffjunk\n'))).toEqual([{ line: 1, value: { a: 1 } }, '2: truncated JSON value (the input ends before it is closed) (skipped lines 2-3)']);
  });

  it('recovers from a one-line value cut off before the next line', () => {
    const line = JSON.stringify(event('ADDED', 'b', '2'));
    const atMetadata = line.slice(0, line.indexOf('"metadata":') + '"metadata":{'.length); // cut between tokens
    const inString = line.slice(0, line.indexOf('ConfigMap') + 3); // cut inside a string
    const text = `${JSON.stringify(event('ADDED', 'a', '1'))}\n${atMetadata}\n${inString}\n${line}\n`;
    expect(summary(split(text))).toEqual([
      { line: 1, value: event('ADDED', 'a', '1') },
      '2: truncated JSON value (a new value starts at line 3 before it was closed)',
      '3: truncated JSON value (a string is not closed before the end of its line)',
      { line: 4, value: event('ADDED', 'b', '2') },
    ]);
  });

  it('recovers a pretty-printed value that starts mid-line right after a cut-off one (a killed writer, then >>)', () => {
    const first = pretty(event('ADDED', 'a', '1'));
    const cut = pretty(event('MODIFIED', 'a', '2'));
    const truncated = cut.slice(0, cut.indexOf('"resourceVersion"')); // ends with indentation, no newline
    const next = pretty(event('MODIFIED', 'a', '3'));
    const firstLines = first.split('\n').length - 1;
    const truncatedLines = truncated.split('\n').length - 1;
    const events = split(first + truncated + next + pretty(event('DELETED', 'a', '4')));
    expect(summary(events)).toEqual([
      { line: 1, value: event('ADDED', 'a', '1') },
      `${firstLines + 1}: truncated JSON value (a new value starts at line ${firstLines + 1 + truncatedLines} before it was closed)`,
      { line: firstLines + 1 + truncatedLines, value: event('MODIFIED', 'a', '3') },
      { line: expect.any(Number), value: event('DELETED', 'a', '4') },
    ]);
  });

  it('recovers a pretty-printed value that starts mid-line inside a cut-off string', () => {
    const first = pretty(event('ADDED', 'a', '1'));
    const cut = pretty(event('MODIFIED', 'a', '2'));
    const truncated = cut.slice(0, cut.indexOf('"a: {b}') + 4); // inside the data string
    const next = pretty(event('MODIFIED', 'a', '3'));
    const events = split([first, truncated, next].join(''));
    expect(events.map((e) => e.kind)).toEqual(['value', 'error', 'value']);
    expect(summary(events)[2]).toMatchObject({ value: event('MODIFIED', 'a', '3') });
    expect((events[1] as { problem: string }).problem).toMatch(/^truncated JSON value \(a string is not closed before the end of its line\) \(skipped lines \d+-\d+\)$/);
  });

  it('leaves syntax inside a value to JSON.parse: an invalid value is still one value', () => {
    const events = split('{"a": tru}\n{"b": 1}\n');
    expect(events).toEqual([
      { kind: 'value', text: '{"a": tru}', line: 1 },
      { kind: 'value', text: '{"b": 1}', line: 2 },
    ]);
  });
});
