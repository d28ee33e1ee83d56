import { isSystemActor, isToolActor, writeVerbs, type Blame, type Finding, type KubeObject, type ObjectRef } from '../../model/index.js';
import { roleOf, type ControllerIdentity } from '../controller-identity.js';
import { ev, FindingGroups } from '../finding-groups.js';
import { kindKey } from '../fold/context.js';
import type { Fact } from '../state.js';
import type { Detector, DetectorContext } from './types.js';

/** The controller's list/watch requests of one resource that named no namespace. */
interface WideRequests {
  ref: ObjectRef;
  byActor: Map<string, { verbs: Map<string, number>; seqs: number[]; lastSeq: number; via: Blame['via']; byController: boolean }>;
}

/** Where one writer (an audit user, a field manager, an SDK controller name) wrote or reconciled. */
type Touched = Map<string, { count: number; firstSeq: number }>;

interface Binding {
  roleKind: string;
  roleName: string;
  subjects: string[];
  seq: number;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface Data {
  actor: string;
  verbs: string;
  namespace: string;
  writes: number;
  rbac: { binding: string; role: string; known: boolean } | null;
}

const rbacGroup = 'rbac.authorization.k8s.io';
/** Writes that say nothing about the namespaces a controller manages: its leader-election lock and its Events. */
const bookkeepingKinds: ReadonlySet<string> = new Set(['coordination.k8s.io/Lease', '/Event', 'events.k8s.io/Event']);

/**
 * cluster-wide-watch: the controller lists and watches a namespaced resource in all namespaces (its requests name
 * no namespace: `objectRef.namespace` is empty in the audit event of a cluster-wide LIST or WATCH) while every object
 * it wrote or reconciled in the session lives in one namespace. Its informer then caches and relists the whole
 * cluster's objects of that kind, and it needs cluster-wide RBAC for it.
 *
 * Needs the controller's list and watch requests, which only the audit path shows (`import --format audit`, or the
 * recorder's audit webhook). A resource counts as namespaced when some object of it in the session has a
 * namespace. Writes of Leases (leader election, usually in the controller's own namespace) and Events do not count
 * as namespaces it manages. Severity info, raised to warning when the session holds a ClusterRoleBinding of the
 * controller to a ClusterRole (also in the session) that allows the list or watch: then the RBAC really is
 * cluster-wide. Without the role's rules it stays info and says which binding it saw.
 */
export function clusterWideWatch(): Detector {
  const wide = new Map<string, WideRequests>();
  const namespaced = new Set<string>();
  const touched = new Map<string, Touched>();
  const bindings = new Map<string, Binding>();
  const clusterRoles = new Map<string, Rule[]>();
  const groups = new FindingGroups<Data>('cluster-wide-watch', () => ({ actor: '', verbs: '', namespace: '', writes: 0, rbac: null }));

  function touch(actor: string, namespace: string | null, kind: string, seq: number): void {
    if (namespace === null || bookkeepingKinds.has(kind)) return;
    let map = touched.get(actor);
    if (!map) touched.set(actor, (map = new Map()));
    const entry = map.get(namespace);
    if (entry) entry.count++;
    else map.set(namespace, { count: 1, firstSeq: seq });
  }

  function learnRbac(ref: ObjectRef, object: KubeObject | null, deleted: boolean, seq: number): void {
    if (ref.group !== rbacGroup) return;
    if (ref.kind === 'ClusterRoleBinding') {
      if (deleted || !object) bindings.delete(ref.name);
      else bindings.set(ref.name, bindingOf(object, seq));
    } else if (ref.kind === 'ClusterRole') {
      if (deleted || !object) clusterRoles.delete(ref.name);
      else clusterRoles.set(ref.name, rulesOf(object));
    }
  }

  return {
    kind: 'cluster-wide-watch',
    facts: ['api', 'version', 'reconcile'],
    observe(fact: Fact) {
      switch (fact.type) {
        case 'api': {
          const r = fact.record;
          const o = r.object;
          if (o.namespace !== null) namespaced.add(kindKey(o));
          if (r.code < 200 || r.code >= 300) return;
          if ((r.verb === 'list' || r.verb === 'watch') && o.namespace === null) {
            const key = kindKey(o);
            let w = wide.get(key);
            if (!w) wide.set(key, (w = { ref: { ...o, name: '*', uid: null }, byActor: new Map() }));
            let a = w.byActor.get(r.actor);
            if (!a) w.byActor.set(r.actor, (a = { verbs: new Map(), seqs: [], lastSeq: r.seq, via: r.origin === 'ingest' ? 'sdk' : 'audit-user', byController: false }));
            a.verbs.set(r.verb, (a.verbs.get(r.verb) ?? 0) + 1);
            if (a.seqs.length < 5) a.seqs.push(r.seq);
            a.lastSeq = r.seq;
            a.byController ||= r.byController;
            return;
          }
          if (writeVerbs.includes(r.verb)) touch(r.actor, o.namespace, kindKey(o), r.seq);
          return;
        }
        case 'version': {
          const ref = fact.object.ref;
          if (ref.namespace !== null) namespaced.add(kindKey(ref));
          // Bodies are read only for RBAC objects: reading a lazy version's object decodes it.
          if (ref.group === rbacGroup) learnRbac(ref, fact.version.hasBody ? fact.version.object : null, fact.version.type === 'DELETED', fact.version.seq);
          // A version an API record already counted (its answer, or the audit import's version of it) counts once,
          // under the request's actor.
          const source = fact.version.source;
          if (source === 'relist' || source === 'api' || source === 'audit' || fact.late || !fact.version.writer) return;
          touch(fact.version.writer, ref.namespace, fact.object.kindKey, fact.version.seq);
          return;
        }
        case 'reconcile':
          if (fact.record.object.namespace !== null) namespaced.add(kindKey(fact.record.object));
          touch(fact.record.controller, fact.record.object.namespace, kindKey(fact.record.object), fact.record.seq);
          return;
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        const controller = context.controller();
        const mine = (actor: string) => roleOf(controller, actor) === 'controller';
        /** Where a client wrote or reconciled: the controller under debug under any of its names, anyone else as itself. */
        function whereOf(names: (actor: string) => boolean): Touched {
          const where: Touched = new Map();
          for (const [actor, map] of touched) {
            if (!names(actor)) continue;
            for (const [namespace, entry] of map) {
              const seen = where.get(namespace);
              if (!seen) where.set(namespace, { ...entry });
              else {
                seen.count += entry.count;
                seen.firstSeq = Math.min(seen.firstSeq, entry.firstSeq);
              }
            }
          }
          return where;
        }
        const controllerWhere = whereOf(mine);
        for (const [key, w] of wide) {
          if (!namespaced.has(key)) continue;
          for (const [actor, a] of w.byActor) {
            // Kubernetes' own components and people's tools list cluster-wide by design.
            if (isSystemActor(actor) || isToolActor(actor)) continue;
            const ours = a.byController || mine(actor);
            const where = ours ? controllerWhere : whereOf((name) => name === actor);
            if (where.size !== 1) continue;
            const [namespace, writes] = [...where][0]!;
            const g = groups.hit(w.ref, 'all-namespaces', {
              evidence: [
                ...a.seqs.map((seq) => ev(seq, `${actor} asked for ${w.ref.resource ?? w.ref.kind} in all namespaces`)),
                ev(a.lastSeq, `${actor} asked for ${w.ref.resource ?? w.ref.kind} in all namespaces (last of ${[...a.verbs.values()].reduce((x, y) => x + y, 0)})`),
                ev(writes.firstSeq, `${ours ? "the controller's" : `${actor}'s`} first write or reconcile, in namespace ${namespace}, where all ${writes.count} were`),
              ],
              count: [...a.verbs.values()].reduce((x, y) => x + y, 0),
            });
            g.data.actor ||= actor;
            g.data.verbs = [...a.verbs].map(([verb, n]) => `${verb.toUpperCase()}×${n}`).join(', ');
            g.data.namespace = namespace;
            g.data.writes = writes.count;
            // Another controller's is context (analyze.ts holds it at info and says whose).
            g.blame = { actor, via: a.via, role: ours ? 'controller' : roleOf(controller, actor) };
            const rbac = clusterGrant(ours ? controller : { names: [actor], basis: 'given' }, bindings, clusterRoles, w.ref);
            if (rbac) {
              g.data.rbac = rbac;
              if (rbac.known && ours) g.severity = 'warning';
            }
          }
        }
        return groups.findings((g) => {
          const d = g.data;
          const resource = g.object.kind;
          const rbac = d.rbac
            ? d.rbac.known
              ? ` And RBAC grants it cluster-wide: ClusterRoleBinding ${d.rbac.binding} binds it to ClusterRole ${d.rbac.role}, which allows that for every namespace.`
              : ` ClusterRoleBinding ${d.rbac.binding} binds it to ClusterRole ${d.rbac.role} (whose rules the session does not hold).`
            : '';
          return `${d.actor} lists and watches ${resource} in all namespaces (${d.verbs}), yet all its ${d.writes} writes and reconciles were in namespace ${d.namespace}: its cache holds every ${resource} in the cluster. Limit the cache to ${d.namespace}.${rbac}`;
        });
      });
    },
  };
}

function bindingOf(object: KubeObject, seq: number): Binding {
  const o = object as { roleRef?: { kind?: unknown; name?: unknown }; subjects?: unknown };
  const subjects: string[] = [];
  for (const s of Array.isArray(o.subjects) ? (o.subjects as { kind?: unknown; name?: unknown; namespace?: unknown }[]) : []) {
    if (typeof s.name !== 'string') continue;
    if (s.kind === 'ServiceAccount' && typeof s.namespace === 'string') subjects.push(`system:serviceaccount:${s.namespace}:${s.name}`);
    else if (s.kind === 'User') subjects.push(s.name);
  }
  return { roleKind: typeof o.roleRef?.kind === 'string' ? o.roleRef.kind : 'ClusterRole', roleName: typeof o.roleRef?.name === 'string' ? o.roleRef.name : '', subjects, seq };
}

function rulesOf(object: KubeObject): Rule[] {
  const rules = (object as { rules?: unknown }).rules;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  return (Array.isArray(rules) ? (rules as Record<string, unknown>[]) : []).map((r) => ({ apiGroups: strings(r.apiGroups), resources: strings(r.resources), verbs: strings(r.verbs) }));
}

/**
 * A ClusterRoleBinding of the controller (by service account or user name) and what its ClusterRole allows: `known`
 * when the role is in the session and one of its rules allows list or watch of the resource (RBAC rule matching:
 * apiGroups, resources and verbs each match exactly or by "*", apiserver plugin/pkg/auth/authorizer/rbac).
 */
function clusterGrant(controller: ControllerIdentity, bindings: ReadonlyMap<string, Binding>, roles: ReadonlyMap<string, Rule[]>, ref: ObjectRef): { binding: string; role: string; known: boolean } | null {
  let unknown: { binding: string; role: string; known: boolean } | null = null;
  for (const [name, binding] of bindings) {
    if (binding.roleKind !== 'ClusterRole' || !binding.subjects.some((s) => roleOf(controller, s) === 'controller')) continue;
    const rules = roles.get(binding.roleName);
    if (!rules) {
      unknown ??= { binding: name, role: binding.roleName, known: false };
      continue;
    }
    const resource = ref.resource ?? `${ref.kind.toLowerCase()}s`;
    const allows = rules.some(
      (r) =>
        (r.apiGroups.includes('*') || r.apiGroups.includes(ref.group)) &&
        (r.resources.includes('*') || r.resources.includes(resource)) &&
        (r.verbs.includes('*') || r.verbs.includes('list') || r.verbs.includes('watch')),
    );
    if (allows) return { binding: name, role: binding.roleName, known: true };
  }
  return unknown;
}
