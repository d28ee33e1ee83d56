import { describe, expect, it } from 'vitest';
import { commandOf } from './main.js';

describe('commandOf', () => {
  it('finds the command word past global options and the value of --db', () => {
    expect(commandOf(['record', '-c', 'recorder.yaml'])).toBe('record');
    expect(commandOf(['--db', 'record', 'check', 'demo'])).toBe('check'); // a database file named "record"
    expect(commandOf(['--db=/tmp/k.db', 'record'])).toBe('record');
    expect(commandOf(['-V'])).toBeUndefined();
    expect(commandOf([])).toBeUndefined();
  });
});
