import { writeVerbs, type ApiRequestRecord, type KubeObject, type DeliveryRecord, type ReconcileRecord, type ReconcileStartRecord } from '../../model/index.js';
import { deletionTimestampOf, finalizersOf, metadataOf } from '../object-meta.js';
import type { Version } from '../state.js';
import { parseTime } from '../time.js';
import { kindKey, type FoldContext, type Stored } from './context.js';
import type { ObjectHistory } from './object-history.js';
import type { WatcherView } from './watcher-view.js';

/**
 * What the controller said it did (reconcile and handler reports from the SDK) and what the API server says it was
 * asked (API records from audit or the SDK): resolved to the objects they are about; a write's response is a
 * version of its object that the watch must deliver too.
 */
export class ControllerReports {
  constructor(
    private readonly ctx: FoldContext,
    private readonly objects: ObjectHistory,
    private readonly view: WatcherView,
  ) {}

  onReconcile(record: Stored<ReconcileRecord>): void {
    this.ctx.state.reconciledKinds.add(kindKey(record.object));
    this.ctx.facts.push({ type: 'reconcile', record, object: this.objects.resolve(record.object) });
  }

  /** A reconcile that has begun (SDK); its finish is the reconcile record with the same controller, object and start. */
  onReconcileStart(record: Stored<ReconcileStartRecord>): void {
    this.ctx.state.reconciledKinds.add(kindKey(record.object));
    this.ctx.facts.push({ type: 'reconcile-start', record, object: this.objects.resolve(record.object) });
  }

  onHandler(record: Stored<DeliveryRecord>): void {
    const resync = record.handler === 'update' && record.oldResourceVersion != null && record.oldResourceVersion === record.resourceVersion;
    if (resync) {
      this.ctx.state.stats.resyncs++;
      this.ctx.annotate(record.seq, 'resync', 'informer resync: UpdateFunc with old and new at the same resourceVersion');
    }
    if (record.tombstone) this.ctx.annotate(record.seq, 'tombstone', 'OnDelete received cache.DeletedFinalStateUnknown');
    this.ctx.facts.push({ type: 'handler', record, object: this.objects.resolve(record.object), resync });
  }

  onApi(record: Stored<ApiRequestRecord>): void {
    let object = this.objects.resolve(record.object);
    let version: Version | null = null;
    const ok = record.code >= 200 && record.code < 300;
    const time = parseTime(record.observedAt);
    this.ctx.answeredWrite = ok && record.origin === 'audit' && record.resourceVersionAfter ? { rv: record.resourceVersionAfter, actor: record.actor } : null;
    if (ok && writeVerbs.includes(record.verb) && record.verb !== 'deletecollection') {
      const body = record.responseObject ?? null;
      const meta = metadataOf(body);
      const isObject = body !== null && body.kind !== 'Status' && typeof meta?.resourceVersion === 'string';
      const outcome = writeOutcome(record.verb, body, isObject);
      const uid = (isObject && typeof meta?.uid === 'string' ? meta.uid : undefined) ?? record.object.uid ?? object?.uid;
      const deleted = outcome === 'deleted';
      if (object && uid && object.uid !== uid && !deleted) object = this.objects.byUid(uid);
      if (!object && uid && !deleted) object = this.objects.create(record.object, uid, record.seq, null);
      const rv = isObject ? (meta!.resourceVersion as string) : (record.resourceVersionAfter ?? undefined);
      if (object && !deleted) {
        // The write that removes a deleting object's last finalizer is answered with the object as written at its
        // *previous* resourceVersion (store.go deleteWithoutFinalizers returns the update's object): a new version
        // although its RV is known.
        const released = outcome === 'released' && object.latest !== null && object.latest.finalizers.length > 0;
        if (isObject && rv && (!object.versionRVs.has(rv) || released)) {
          version = this.objects.addVersion(record, object, {
            rv,
            type: record.verb === 'create' ? 'ADDED' : outcome === 'released' ? 'DELETED' : 'MODIFIED',
            source: 'api',
            body,
            generation: null,
            time,
            actor: record.actor,
          });
        }
        if (rv && outcome !== 'released') this.view.expect(object, record.seq, rv, 'api');
        if (outcome === 'released' && object.gone === null && !this.view.watched(object)) this.objects.bury(object, record, 'deleted', time);
      }
      if (object && deleted && object.gone === null && !this.view.watched(object)) this.objects.bury(object, record, 'deleted', time);
    } else if (record.code === 404 && object && object.gone === null && object.ref.name === record.object.name && !this.view.watched(object)) {
      // The server says the object does not exist: whatever this session last knew of it, it is gone by now.
      this.objects.bury(object, record, 'deleted', time);
    }
    this.ctx.facts.push({ type: 'api', record, object, version });
  }
}

/**
 * What a successful write did to its object, from the server's answer (apiserver pkg/registry/generic/registry/
 * store.go): a DELETE answers with a Status, or with the object as it was when it is gone, or with the updated object
 * (deletionTimestamp set) when finalizers or a grace period hold it; an UPDATE/PATCH that leaves a deleting object
 * with no finalizers deletes it (ShouldDeleteDuringUpdate). No answer (an SDK report, an audit line at Metadata level,
 * or an audit import that carries the answer as its own version record) proves nothing either way.
 */
function writeOutcome(verb: ApiRequestRecord['verb'], body: KubeObject | null, isObject: boolean): 'written' | 'released' | 'deleted' | 'unknown' {
  if (body === null) return verb === 'delete' ? 'unknown' : 'written';
  const deleting = isObject && deletionTimestampOf(body) !== null;
  const held = deleting && (finalizersOf(body).length > 0 || gracePeriodOf(body) > 0);
  if (verb === 'delete') return held ? 'written' : 'deleted';
  if (deleting && !held) return 'released';
  return 'written';
}

function gracePeriodOf(body: KubeObject): number {
  const grace = metadataOf(body)?.deletionGracePeriodSeconds;
  return typeof grace === 'number' ? grace : 0;
}
