import { describe, expect, it } from 'vitest';
import { KnownObjects, vanishedSince, type KnownObject } from './relist.js';

const known = (uid: string, name: string, namespace: string | null = 'ns'): KnownObject => ({ uid, name, namespace, resourceVersion: '1', generation: 1 });

describe('vanishedSince', () => {
  it('returns the known objects missing from the new list, in namespace/name order', () => {
    const before = new KnownObjects([known('u3', 'c'), known('u1', 'a'), known('u2', 'b', 'other'), known('u4', 'd', null)]);
    expect(vanishedSince(before.values(), new Set(['u1'])).map((o) => o.uid)).toEqual(['u4', 'u3', 'u2']);
  });

  it('treats an object re-created under the same name (new uid) as the old one gone', () => {
    const before = [known('old', 'web')];
    expect(vanishedSince(before, new Set(['new']))).toEqual([known('old', 'web')]);
  });

  it('finds nothing gone when everything is still listed', () => {
    expect(vanishedSince([known('u1', 'a')], new Set(['u1', 'u9']))).toEqual([]);
  });
});

describe('KnownObjects', () => {
  it('keys by uid', () => {
    const objects = new KnownObjects();
    objects.upsert(known('u1', 'a'));
    objects.upsert({ ...known('u1', 'a'), resourceVersion: '2' });
    expect(objects.size).toBe(1);
    expect([...objects.values()][0]!.resourceVersion).toBe('2');
    objects.remove('u1');
    expect(objects.has('u1')).toBe(false);
  });
});
