/**
 * The auditIDs of audit events the webhook has already answered for, so a batch the API server sends again is
 * recorded once. kube-apiserver's webhook backend retries a batch whose answer it did not get (a timeout, a reset
 * connection: `k8s.io/apiserver/pkg/util/webhook` `WithExponentialBackoff`), and a batch we answered 200 may still be
 * re-sent when the answer was lost on the way back. Retries come within seconds, so a bounded memory of the most
 * recent IDs suffices: at the backend's default batch size (400 events) and throttle, 16 Ki IDs cover tens of seconds
 * of a busy cluster's audit traffic for ~1.5 MB.
 */
export class RecentAuditIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 16_384) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers the IDs of a batch once it has been answered for; the oldest are forgotten first. */
  remember(ids: Iterable<string>): void {
    for (const id of ids) {
      this.ids.delete(id);
      this.ids.add(id);
    }
    // A Set iterates in insertion order: the first keys are the oldest.
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

/**
 * One batch's view for the audit parser: an ID counts as seen when an earlier answered batch had it, or this batch
 * already did. Only this batch's own IDs are added here; they join the memory when the batch is answered, so a batch
 * refused (and re-sent) is never skipped as its own duplicate.
 */
export class BatchAuditIds extends Set<string> {
  constructor(private readonly answered: RecentAuditIds) {
    super();
  }

  override has(id: string): boolean {
    return super.has(id) || this.answered.has(id);
  }
}
