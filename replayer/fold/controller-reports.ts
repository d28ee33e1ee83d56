import { writeVerbs, type ApiRequestRecord, type DeliveryRecord, type ReconcileRecord } from '../../model/index.js';
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
    if (ok && writeVerbs.includes(record.verb) && record.verb !== 'deletecollection') {
      const body = record.responseObject ?? null;
      const meta = metadataOf(body);
      const isObject = body !== null && body.kind !== 'Status' && typeof meta?.resourceVersion === 'string';
      // A DELETE answers with the object as it was, unless finalizers hold it: then it is the updated object
      // carrying deletionTimestamp (apiserver pkg/registry/generic/registry/store.go Delete).
      const finalDelete = record.verb === 'delete' && !(isObject && deletionTimestampOf(body) && finalizersOf(body).length > 0);
      const uid = (isObject && typeof meta?.uid === 'string' ? meta.uid : undefined) ?? record.object.uid ?? object?.uid;
      if (object && uid && object.uid !== uid && !finalDelete) object = this.objects.byUid(uid);
      if (!object && uid && !finalDelete) object = this.objects.create(record.object, uid, record.seq, null);
      const rv = isObject ? (meta!.resourceVersion as string) : (record.resourceVersionAfter ?? undefined);
      if (object && !finalDelete) {
        const time = parseTime(record.observedAt);
        if (isObject && rv && !object.versionRVs.has(rv)) {
          version = this.objects.addVersion(record, object, {
            rv,
            type: record.verb === 'create' ? 'ADDED' : 'MODIFIED',
            source: 'api',
            body,
            generation: null,
            time,
            actor: record.actor,
          });
        }
        if (rv) this.view.expect(object, record.seq, rv, 'api');
      }
      if (object && finalDelete && object.gone === null && !this.view.watched(object)) this.objects.bury(object, record, 'deleted', parseTime(record.observedAt));
    }
    this.ctx.facts.push({ type: 'api', record, object, version });
  }
}
