import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactIdSet } from './audit-id-set.js';

describe('CompactIdSet', () => {
  it('answers exactly as a Set of the same IDs, through growth, for UUIDs and any other ID', () => {
    const compact = new CompactIdSet();
    const reference = new Set<string>();
    // Random UUIDs, sequential ones (the words differ in one place only), and IDs that are no canonical UUID:
    // uppercase, braces, a client's own Audit-ID, a UUID one character short.
    const ids: string[] = [];
    for (let i = 0; i < 5_000; i += 1) ids.push(randomUUID());
    for (let i = 0; i < 5_000; i += 1) ids.push(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    ids.push(ids[0]!.toUpperCase(), `{${ids[1]}}`, 'my-client-request-7', ids[2]!.slice(0, 35), '', '00000000-0000-0000-0000-000000000000');
    for (const [n, id] of ids.entries()) {
      if (n % 2 === 0) {
        compact.add(id);
        reference.add(id);
      }
    }
    for (const id of ids) expect(compact.has(id), id).toBe(reference.has(id));
    expect(compact.size).toBe(reference.size);
    // Adding again changes nothing.
    for (const id of reference) compact.add(id);
    expect(compact.size).toBe(reference.size);
  });

  it('tells apart UUIDs that differ in any one of their 32 hex digits', () => {
    const base = '0123abcd-4567-4def-89ab-cdef01234567';
    const compact = new CompactIdSet().add(base);
    const positions = [...base].flatMap((c, i) => (c === '-' ? [] : [i]));
    for (const at of positions) {
      const other = base.slice(0, at) + (base[at] === 'f' ? '0' : 'f') + base.slice(at + 1);
      expect(compact.has(other), other).toBe(false);
    }
    expect(compact.has(base)).toBe(true);
  });
});
