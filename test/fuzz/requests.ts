import { gzipSync } from 'node:zlib';
import { type Random, withHostile } from './random.js';

/**
 * Bad requests to the recorder's two ingest endpoints, each with the status the recorder must answer. Every one is
 * a mutation of a request the recorder accepts, so each tests one rule at a time: what Kubernetes could not have
 * sent (model/kube-names.ts, model/bounded-text.ts), broken framing, and what would cost memory.
 */
export interface FuzzRequest {
  readonly endpoint: '/v1/records' | '/v1/audit';
  readonly label: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
  /** The status the recorder must answer. */
  readonly status: number;
  /** Audit only: every event in the batch is bad, so a 200 must record none. */
  readonly recordsNone?: boolean;
}

const ref = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop' };

export function goodDelivery(name: string, observedAt = new Date().toISOString()): Record<string, unknown> {
  return { record: 'delivery', observedAt, controller: 'web-operator', handler: 'update', object: { ...ref, name }, resourceVersion: '7' };
}

function goodReconcile(name: string): Record<string, unknown> {
  const at = new Date().toISOString();
  return { record: 'reconcile', observedAt: at, controller: 'web-operator', object: { ...ref, name }, startedAt: at, finishedAt: at, result: 'error', errorReason: 'Conflict', errorMessage: 'the object has been modified' };
}

function goodApi(name: string): Record<string, unknown> {
  return { record: 'api', observedAt: new Date().toISOString(), actor: 'system:serviceaccount:shop:web-operator', verb: 'update', object: { ...ref, name }, code: 409, reason: 'Conflict', message: 'conflict' };
}

export function goodAuditEvent(auditID: string, name: string): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: `/apis/apps/v1/namespaces/shop/deployments/${name}`,
    verb: 'update',
    user: { username: 'system:serviceaccount:shop:web-operator' },
    userAgent: 'web-operator/v1.0',
    objectRef: { resource: 'deployments', namespace: 'shop', name, apiGroup: 'apps', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    stageTimestamp: new Date().toISOString(),
  };
}

export function auditBody(events: readonly unknown[]): string {
  return JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events });
}

type Mutation = (random: Random, record: Record<string, unknown>) => { record: unknown; label: string };

const objectOf = (record: Record<string, unknown>) => record.object as Record<string, unknown>;

/** Breaks one rule of a record the recorder would accept. */
const recordMutations: Mutation[] = [
  (r, rec) => ((objectOf(rec).name = 'x'.repeat(r.pick([254, 1000, 100_000]))), { record: rec, label: 'name too long' }),
  (r, rec) => ((objectOf(rec).name = withHostile(r, 'web')), { record: rec, label: 'control character in name' }),
  (r, rec) => ((objectOf(rec).name = r.pick(['a/b', '50%', '.', '..', ''])), { record: rec, label: 'name not a path segment' }),
  (r, rec) => ((objectOf(rec).kind = r.pick(['Deplµyment', 'Deploy%ment', withHostile(r, 'Deployment'), '1Deployment', 'Deploy ment', 'x'.repeat(64)])), { record: rec, label: 'kind not an identifier' }),
  (r, rec) => ((objectOf(rec).namespace = r.pick(['Shop', 'shop_1', '-shop', 'a'.repeat(64), withHostile(r, 'shop'), ''])), { record: rec, label: 'namespace not a DNS label' }),
  (r, rec) => ((objectOf(rec).group = r.pick(['Apps', '.apps', 'apps..io', withHostile(r, 'apps'), 'a'.repeat(254)])), { record: rec, label: 'group not a DNS subdomain' }),
  (r, rec) => ((objectOf(rec).version = r.pick(['1', 'V1', '', 'v1/beta', withHostile(r, 'v1')])), { record: rec, label: 'bad version' }),
  (r, rec) => ((objectOf(rec).resource = r.pick(['Deployments', 'deployments/status', withHostile(r, 'deployments')])), { record: rec, label: 'bad resource' }),
  (r, rec) => {
    if ('controller' in rec) rec.controller = r.pick(['web\u0000', 'web\ud800', 'x'.repeat(1025), withHostile(r, 'web-operator'), '']);
    else rec.actor = r.pick(['web\u0000', 'x'.repeat(1025), withHostile(r, 'system:admin'), '']);
    return { record: rec, label: 'bad controller or actor' };
  },
  (r, rec) => ((rec.observedAt = r.pick(['yesterday', '2026-13-01T00:00:00Z', 12345, ''])), { record: rec, label: 'bad timestamp' }),
  (r, rec) => ((objectOf(rec).name = r.pick([42, null, { a: 1 }, ['web']])), { record: rec, label: 'name of the wrong type' }),
  (r, rec) => ((rec.record = r.pick(['watch', 'marker', 'Reconcile', 'nonsense', 7])), { record: rec, label: 'record kind not ingestible' }),
  (r, rec) => {
    if (rec.record === 'reconcile') rec.errorMessage = r.pick(['x'.repeat(32_769), 'bell\u0007', 'esc\u001b[2J', 'nul\u0000', 'lone\ud800']);
    else if (rec.record === 'api') rec.message = r.pick(['x'.repeat(32_769), 'bell\u0007']);
    else rec.resourceVersion = r.pick(['', 'x'.repeat(254), withHostile(r, '7')]);
    return { record: rec, label: 'bad message or resourceVersion' };
  },
  (r, rec) => ((rec.record === 'api' ? (rec.subresource = r.pick(['Status', 'st/atus', withHostile(r, 'status')])) : (objectOf(rec).uid = withHostile(r, 'uid-1'))), { record: rec, label: 'bad subresource or uid' }),
];

/** A bad line of text: not JSON, or JSON that is not one object. */
function badLine(random: Random, good: string): { line: string | Buffer; label: string } {
  switch (random.int(0, 4)) {
    case 0:
      return { line: good.slice(0, random.int(1, good.length - 1)), label: 'truncated JSON' };
    case 1:
      // Never blank once trimmed (a blank line is allowed): a non-space byte first.
      return { line: `\u00ff${random.bytes(random.int(1, 300)).toString('latin1').replace(/\n/g, ' ')}`, label: 'binary' };
    case 2:
      return { line: random.pick(['[1,2]', '42', '"text"', 'null', 'true']), label: 'not an object' };
    case 3:
      return { line: `${good.slice(0, -1)},}`, label: 'trailing comma' };
    default:
      return { line: good.replace('"record"', '"record\u0000'), label: 'NUL inside a key' };
  }
}

function goodOf(random: Random, name: string): Record<string, unknown> {
  return random.pick([goodDelivery, goodReconcile, goodApi])(name);
}

/** The precomputed bodies that are expensive to build: a 64 MiB gzip bomb and a 6 MB body. */
export interface BigBodies {
  readonly bomb: Buffer;
  readonly sixMegabytes: Buffer;
}

export function bigBodies(): BigBodies {
  return { bomb: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), sixMegabytes: Buffer.alloc(6_000_000, 0x7b) };
}

/** One bad request, chosen at random among every kind of refusal. */
export function badRequest(random: Random, token: string, big: BigBodies, maxBatchRecords: number, n: number): FuzzRequest {
  const auth = { Authorization: `Bearer ${token}` };
  const endpoint = random.chance(0.3) ? '/v1/audit' : '/v1/records';
  const roll = random.next();
  if (roll < 0.03) return { endpoint, label: 'no token', body: '{}', status: 401, headers: random.chance(0.5) ? {} : { Authorization: 'Bearer wrong-token-0123456789abcdef' } };
  if (roll < 0.04) return { endpoint, label: 'wrong method', method: 'PUT', body: '{}', status: 405, headers: auth };
  if (roll < 0.05) return { endpoint, label: 'unknown encoding', body: '{}', status: 415, headers: { ...auth, 'Content-Encoding': 'br' } };
  if (roll < 0.06) return { endpoint, label: 'broken gzip', body: gzipSync('{"kind":"EventList","items":[]}').subarray(0, 15), status: 400, headers: { ...auth, 'Content-Encoding': 'gzip' } };
  if (roll < 0.062) return { endpoint, label: '64 MiB gzip bomb', body: big.bomb, status: 413, headers: { ...auth, 'Content-Encoding': 'gzip' } };
  if (roll < 0.064) return { endpoint, label: '6 MB body', body: big.sixMegabytes, status: 413, headers: auth };
  if (endpoint === '/v1/records') {
    if (roll < 0.07) {
      const lines = Array.from({ length: maxBatchRecords + 1 }, (_, i) => JSON.stringify(goodDelivery(`many-${n}-${i}`)));
      return { endpoint, label: 'too many records', body: lines.join('\n'), status: 413, headers: auth };
    }
    // A batch of good lines with one bad one: all or nothing.
    const size = random.int(1, 20);
    const badAt = random.int(0, size - 1);
    const lines: (string | Buffer)[] = [];
    let label = '';
    for (let i = 0; i < size; i += 1) {
      const good = goodOf(random, `refused-${n}-${i}`);
      if (i !== badAt) {
        lines.push(JSON.stringify(good));
        continue;
      }
      if (random.chance(0.7)) {
        const mutated = random.pick(recordMutations)(random, good);
        label = mutated.label;
        lines.push(JSON.stringify(mutated.record));
      } else {
        const bad = badLine(random, JSON.stringify(good));
        label = bad.label;
        lines.push(bad.line);
      }
    }
    const body = Buffer.concat(lines.flatMap((line) => [Buffer.from(line), Buffer.from('\n')]));
    const zip = random.chance(0.2);
    return { endpoint, label, body: zip ? gzipSync(body) : body, status: 400, headers: zip ? { ...auth, 'Content-Encoding': 'gzip' } : auth };
  }
  // Audit: a body that is no EventList at all is refused whole; an EventList whose every event breaks a rule is
  // answered 200 (the API server would only retry it) and records nothing.
  const good = auditBody([goodAuditEvent(`refused-${n}`, `refused-${n}`)]);
  if (roll < 0.5) {
    const cases: [string, string][] = [
      ['truncated EventList', good.slice(0, random.int(1, good.length - 2))],
      ['binary', random.bytes(random.int(1, 500)).toString('latin1')],
      ['not an audit kind', JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' } })],
      ['scalar items', '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[1,"two",null]}'],
      ['empty body', ''],
      ['kreplay record as audit', JSON.stringify(goodDelivery('x'))],
    ];
    const [label, body] = random.pick(cases);
    return { endpoint, label, body, status: 400, headers: auth };
  }
  const events = Array.from({ length: random.int(1, 10) }, (_, i) => {
    const event = goodAuditEvent(`bad-${n}-${i}`, `refused-${n}-${i}`);
    const objectRef = event.objectRef as Record<string, unknown>;
    switch (random.int(0, 6)) {
      case 0:
        objectRef.name = 'x'.repeat(random.pick([254, 5000]));
        break;
      case 1:
        objectRef.resource = withHostile(random, 'deployments');
        break;
      case 2:
        objectRef.namespace = random.pick(['Shop', withHostile(random, 'shop')]);
        break;
      case 3:
        event.user = { username: withHostile(random, 'system:admin') };
        break;
      case 4:
        event.stage = 'Done';
        break;
      case 5:
        objectRef.apiGroup = withHostile(random, 'apps');
        break;
      default:
        objectRef.name = random.pick(['a/b', '%2e', '..']);
    }
    return event;
  });
  return { endpoint, label: 'every event breaks a rule', body: auditBody(events), status: 200, recordsNone: true, headers: auth };
}
