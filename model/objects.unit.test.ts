import { describe, expect, it } from 'vitest';
import { countObjects } from './objects.js';

describe('countObjects: the one count of objects per session', () => {
  const ref = (name: string, uid?: string | null, kind = 'Deployment') => ({ group: 'apps', kind, namespace: 'shop', name, uid });

  it('counts uids; a uid-less reference joins its name\'s object, or is one object by name; collections name none', () => {
    expect(countObjects([ref('web', 'u1'), ref('web', 'u1'), ref('web', null)])).toBe(1);
    // Deleted and created again: two objects. A relist naming u1 again: still two.
    expect(countObjects([ref('web', 'u1'), ref('web', 'u2'), ref('web', 'u1')])).toBe(2);
    // A 404 loop on a name never seen with a uid, before or after: one object.
    expect(countObjects([ref('ghost', null), ref('ghost', null), ref('web', 'u1')])).toBe(2);
    expect(countObjects([ref('web', null), ref('web', 'u1')])).toBe(1);
    // Same name, another kind: another object.
    expect(countObjects([ref('web', 'u1'), ref('web', null, 'Service')])).toBe(2);
    expect(countObjects([ref('*', null), { group: '', kind: 'Pod', namespace: null, name: null }])).toBe(0);
  });
});
