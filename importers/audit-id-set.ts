/**
 * The auditIDs an import has seen, to keep one record per request (audit.ts). An import must remember every one, so
 * this is the one part of its memory that grows with the input; it is kept small and out of V8's heap.
 *
 * kube-apiserver's auditIDs are UUIDs: `uuid.New()` unless the client sent an Audit-ID header, which is kept as sent
 * (apiserver `pkg/endpoints/filters/audit_init.go`). A lowercase canonical UUID is stored as its 128 bits in an open-addressing table of typed arrays (16 bytes,
 * ~30 with the table's slack) instead of a string in a Set (~90 bytes of heap each, and V8 then reserves heap in
 * proportion to what is live: a 200 MB audit log's 267,000 IDs grew the import's peak RSS by ~90 MiB). Any other ID
 * is kept as it is, in a Set: the test is exact, never a hash that two IDs could share.
 */
export interface AuditIdSet {
  has(id: string): boolean;
  add(id: string): unknown;
}

const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const initialSlots = 1024;

export class CompactIdSet implements AuditIdSet {
  private slots = initialSlots;
  private words = new Uint32Array(initialSlots * 4);
  private used = new Uint8Array(initialSlots);
  private uuids = 0;
  private readonly others = new Set<string>();
  private readonly key = new Uint32Array(4);

  get size(): number {
    return this.uuids + this.others.size;
  }

  has(id: string): boolean {
    if (!this.parse(id)) return this.others.has(id);
    return this.used[this.slotOf(this.key)] === 1;
  }

  add(id: string): this {
    if (!this.parse(id)) {
      this.others.add(id);
      return this;
    }
    const slot = this.slotOf(this.key);
    if (this.used[slot] === 1) return this;
    this.put(slot, this.key);
    this.uuids += 1;
    // Grown at three quarters full: linear probing stays short.
    if (this.uuids * 4 > this.slots * 3) this.grow();
    return this;
  }

  /** Fills `this.key` with the UUID's four 32-bit words; false when `id` is not a lowercase canonical UUID. */
  private parse(id: string): boolean {
    if (id.length !== 36 || !canonicalUuid.test(id)) return false;
    this.key[0] = Number.parseInt(id.slice(0, 8), 16);
    this.key[1] = Number.parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
    this.key[2] = Number.parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
    this.key[3] = Number.parseInt(id.slice(28, 36), 16);
    return true;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slotOf(key: Uint32Array): number {
    const mask = this.slots - 1;
    // Every word mixed in: IDs that are not random (a client's own, a test's) still spread over the table.
    let hash = Math.imul(key[0]! ^ Math.imul(key[1]!, 0x9e3779b1) ^ Math.imul(key[2]!, 0x85ebca6b) ^ Math.imul(key[3]!, 0xc2b2ae35), 0x27d4eb2d);
    hash ^= hash >>> 15;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] !== 1) return slot;
      const at = slot * 4;
      if (this.words[at] === key[0] && this.words[at + 1] === key[1] && this.words[at + 2] === key[2] && this.words[at + 3] === key[3]) return slot;
    }
  }

  private put(slot: number, key: Uint32Array): void {
    this.words.set(key, slot * 4);
    this.used[slot] = 1;
  }

  private grow(): void {
    const { words, used, slots } = this;
    this.slots = slots * 2;
    this.words = new Uint32Array(this.slots * 4);
    this.used = new Uint8Array(this.slots);
    for (let slot = 0; slot < slots; slot += 1) {
      if (used[slot] !== 1) continue;
      const key = words.subarray(slot * 4, slot * 4 + 4);
      this.put(this.slotOf(key), key);
    }
  }
}
