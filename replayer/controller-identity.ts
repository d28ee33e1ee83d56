import { isSystemActor, isToolActor, isToolUserAgent, sameActor, writeVerbs, type BlameRole } from '../model/index.js';
import type { Fact } from './state.js';

/** The controller under debug, as the analysis knows it. */
export interface ControllerIdentity {
  /** The names it writes as: field managers and audit users. */
  readonly names: readonly string[];
  /** given: --controller or the session's config; inferred: the busiest writer that is neither Kubernetes nor a tool. */
  readonly basis: 'given' | 'inferred' | 'unknown';
}

export function roleOf(identity: ControllerIdentity, actor: string): BlameRole {
  if (identity.names.some((name) => sameActor(name, actor))) return 'controller';
  return isSystemActor(actor) ? 'system' : 'other';
}

/**
 * Counts who wrote what in a session, to name the controller when nobody said which it is, and learns which field
 * manager an audit user writes as (an audit write's answer is the version its managedFields attribute).
 */
export class WriterCensus {
  private readonly writes = new Map<string, number>();
  private readonly aliases = new Map<string, Set<string>>();
  private readonly tools = new Set<string>();
  private readonly reporting = new Set<string>();
  /**
   * Users the recorder or the import marked as the controller's (`byController`: the configured username or service
   * account). They name the controller when nobody says otherwise; a name given to check wins.
   */
  private readonly marked = new Set<string>();
  private lastWrite: { rv: string; actor: string; tool: boolean } | null = null;
  /**
   * Recent writes and versions by resourceVersion, to join an audit user to the field manager of the version its
   * write produced whichever comes first (a recording holds the watch's version and the webhook's record of the
   * same write; resourceVersions are etcd revisions, one per write). Bounded: a join is only ever near.
   */
  private readonly writesByRV = new Map<string, { actor: string; tool: boolean }>();
  private readonly versionsByRV = new Map<string, string>();

  observe(fact: Fact): void {
    if (fact.type === 'reconcile' || fact.type === 'reconcile-start' || fact.type === 'handler') {
      // The SDK runs inside the controller under debug: the name it reports under is one of its names.
      this.reporting.add(fact.record.controller);
      return;
    }
    if (fact.type === 'api') {
      const r = fact.record;
      if (r.code < 200 || r.code >= 300 || !writeVerbs.includes(r.verb)) return;
      // A person at kubectl or helm is not a controller, whatever user they authenticate as.
      const tool = isToolUserAgent(r.userAgent);
      if (tool) this.tools.add(r.actor);
      this.count(r.actor);
      if (r.byController && !tool) this.marked.add(r.actor);
      // A DELETE adds no managedFields entry (the server sets deletionTimestamp, or removes the object): the version
      // it answered still names the previous writer, so it tells nothing of whom the deleter writes as.
      const joinable = r.verb !== 'delete' && r.verb !== 'deletecollection';
      this.lastWrite = joinable && r.resourceVersionAfter ? { rv: r.resourceVersionAfter, actor: r.actor, tool } : null;
      const write = { actor: r.actor, tool };
      if (joinable && fact.version?.writer) this.answered(write, fact.version.writer);
      // A write answered at the resourceVersion it sent changed nothing (a no-op update): its answer is someone
      // else's version.
      else if (joinable && r.resourceVersionAfter && r.resourceVersionAfter !== r.resourceVersionBefore) {
        const manager = this.versionsByRV.get(r.resourceVersionAfter);
        if (manager !== undefined) this.answered(write, manager);
        else remember(this.writesByRV, r.resourceVersionAfter, write);
      }
      // A request both audit and the SDK reported: the audit user and the SDK's reporting name are one controller.
      if (r.controller) {
        this.reporting.add(r.controller);
        this.alias(r.actor, r.controller);
      }
      return;
    }
    if (fact.type !== 'version' || fact.late || fact.version.source === 'relist' || !fact.version.writer) return;
    const writer = fact.version.writer;
    const last = this.lastWrite;
    if (last && last.rv === fact.version.rv && fact.version.source === 'audit') {
      this.answered(last, writer);
      this.lastWrite = null;
      return;
    }
    const write = this.writesByRV.get(fact.version.rv);
    if (write) {
      // The watch's version of a write the audit trail already counted under its user.
      this.writesByRV.delete(fact.version.rv);
      this.answered(write, writer);
      return;
    }
    this.count(writer);
    remember(this.versionsByRV, fact.version.rv, writer);
  }

  /**
   * The version an audit write answered names its field manager. A user's write is already counted under the user,
   * and the manager is the user's other name. A tool's write (kubectl, helm) under a manager of its own
   * (`--field-manager=widget-controller`) is that manager's: counted for it, and the tool's user is not aliased to
   * it (else every kubectl write would become the controller's).
   */
  private answered(write: { actor: string; tool: boolean }, manager: string): void {
    if (write.tool) this.count(manager);
    else this.alias(write.actor, manager);
  }

  identify(given: readonly string[]): ControllerIdentity {
    if (given.length) return { names: this.withAliases([...given, ...this.reporting]), basis: 'given' };
    const inferred = this.busiest();
    const known = [...this.reporting, ...this.marked];
    if (known.length) return { names: this.withAliases([...known, ...(inferred && !known.includes(inferred) ? [inferred] : [])]), basis: 'inferred' };
    return inferred ? { names: this.withAliases([inferred]), basis: 'inferred' } : { names: [], basis: 'unknown' };
  }

  private busiest(): string | null {
    let best: { name: string; writes: number } | null = null;
    const counted = new Set<string>();
    for (const name of this.writes.keys()) {
      if (counted.has(name) || isSystemActor(name) || isToolActor(name) || this.tools.has(name)) continue;
      // One writer under its two names counts once, with both names' writes.
      let total = 0;
      for (const alias of this.withAliases([name])) {
        counted.add(alias);
        total += this.writes.get(alias) ?? 0;
      }
      if (!best || total > best.writes || (total === best.writes && name < best.name)) best = { name, writes: total };
    }
    return best?.name ?? null;
  }

  private count(actor: string): void {
    this.writes.set(actor, (this.writes.get(actor) ?? 0) + 1);
  }

  private alias(a: string, b: string): void {
    // Kubernetes' components and people's tools are never another writer's other name.
    if (a === b || isSystemActor(b) !== isSystemActor(a) || isToolActor(a) || isToolActor(b)) return;
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      let set = this.aliases.get(x);
      if (!set) this.aliases.set(x, (set = new Set()));
      set.add(y);
    }
  }

  private withAliases(names: readonly string[]): string[] {
    const out = new Set<string>(names);
    for (const name of names) for (const [key, set] of this.aliases) if (sameActor(key, name)) for (const alias of set) out.add(alias);
    return [...out];
  }
}

const joinMemory = 1024;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > joinMemory) map.delete(map.keys().next().value as string);
}
