import { describe, expect, it } from 'vitest';
import { createLogger, formatLine } from './log.js';

describe('log lines', () => {
  it('are time, level, message and key=value pairs, quoting what needs it', () => {
    expect(formatLine('T', 'info', 'watch started', { resource: 'v1/configmaps', rv: 12, error: 'a b', none: undefined })).toBe(
      'T info  watch started resource=v1/configmaps rv=12 error="a b"\n',
    );
  });

  it('respect the level and carry fields from with()', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (line) => lines.push(line), now: () => 0 }).with({ component: 'x' });
    log.info('hidden');
    log.warn('shown', { n: 1 });
    expect(lines).toEqual(['1970-01-01T00:00:00.000Z warn  shown component=x n=1\n']);
  });
});
