import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, SessionRecord } from '../model/index.js';
import type { FaultDecision, FaultEngine } from './fault-engine.js';
import type { ResourceRequest } from '../model/request-info.js';
import type { ViewRecorder } from './view-records.js';

/**
 * One watch, relayed from the API server to the controller and recorded as delivered.
 *
 * Without a fault rule that could touch it, every chunk is written to the controller the moment it arrives, and
 * only then split into lines and recorded: the proxy adds no buffering. With one, the stream is relayed line by line
 * (a watch event is one JSON object per line: apimachinery pkg/runtime/serializer/json, newline framing), because a
 * fault acts on whole events; a partial line is useless to the controller's decoder anyway.
 */

interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: unknown; reason?: unknown; message?: unknown };
}

const types = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export interface WatchRelayOptions {
  readonly request: ResourceRequest;
  readonly upstream: IncomingMessage;
  readonly response: ServerResponse;
  readonly recorder: ViewRecorder;
  readonly faults: FaultEngine;
  readonly streamKey: string;
  /** Ends the upstream request (the controller went away, or a fault closed the watch). */
  readonly abortUpstream: () => void;
}

export class WatchRelay {
  private carried: Buffer[] = [];
  private lastRV: string | undefined;
  private events = 0;
  private initialEvents: boolean;
  private initialCount = 0;
  private initialItems: KubeObject[] = [];
  private ended = false;
  private readonly lineMode: boolean;
  /** Line mode: deliveries in order, each possibly after a delay. */
  private queue: Promise<void> = Promise.resolve();
  private closeReason = 'closed by the API server';
  /** coalesce: lines held for the window, and the object whose intermediate versions are hidden. */
  private holding: { lines: Buffer[]; uid: string | undefined; decision: FaultDecision } | undefined;

  constructor(private readonly options: WatchRelayOptions) {
    const { request, faults } = options;
    this.initialEvents = request.query.get('sendInitialEvents') === 'true';
    this.lineMode = !faults.empty && faults.mayTouchWatch(request);
  }

  start(): void {
    const { request, upstream, response, recorder } = this.options;
    const requested = request.query.get('resourceVersion') ?? '';
    // sendInitialEvents: the server first sends the current state, whatever the RV says (NotOlderThan): to the fold a
    // listing, which a watch-started without a resourceVersion starts (replayer/fold/relists.ts watchStarted).
    recorder.mark(request, 'watch-started', {
      ...(this.initialEvents || !requested ? {} : { resourceVersion: requested }),
      message: `watch as delivered to the controller${this.initialEvents ? ` (sendInitialEvents${requested ? ` from resourceVersion ${requested}` : ''})` : ''}${request.query.get('timeoutSeconds') ? `, timeoutSeconds=${request.query.get('timeoutSeconds')}` : ''}`,
    });
    response.on('close', () => {
      if (!this.ended) {
        this.closeReason = 'closed by the controller';
        this.options.abortUpstream();
        this.finish();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      if (this.lineMode) {
        this.lines(chunk, (line) => this.enqueue(line));
        return;
      }
      if (!response.write(chunk)) {
        upstream.pause();
        response.once('drain', () => upstream.resume());
      }
      const records: SessionRecord[] = [];
      const observedAt = recorder.observedAt();
      this.lines(chunk, (line) => {
        const parsed = this.parse(line, records, observedAt);
        if (parsed) this.recordEvent(parsed, records, observedAt);
      });
      recorder.events(records);
    });
    upstream.on('end', () => {
      if (this.lineMode) {
        const rest = Buffer.concat(this.carried);
        this.carried = [];
        if (rest.length) this.enqueue(rest);
        this.queue = this.queue.then(() => this.endResponse());
      } else {
        const rest = Buffer.concat(this.carried);
        this.carried = [];
        const records: SessionRecord[] = [];
        const observedAt = recorder.observedAt();
        const parsed = rest.length ? this.parse(rest, records, observedAt) : undefined;
        if (parsed) this.recordEvent(parsed, records, observedAt);
        recorder.events(records);
        this.endResponse();
      }
    });
    upstream.on('error', () => {
      this.closeReason = 'the API server connection failed';
      this.endResponse();
    });
  }

  private lines(chunk: Buffer, each: (line: Buffer) => void): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      let line: Buffer;
      if (this.carried.length === 0) line = chunk.subarray(start, newline + 1);
      else {
        this.carried.push(chunk.subarray(start, newline + 1));
        line = Buffer.concat(this.carried);
        this.carried = [];
      }
      start = newline + 1;
      each(line);
    }
    if (start < chunk.length) this.carried.push(chunk.subarray(start));
  }

  private parse(line: Buffer, records: SessionRecord[], observedAt: string): WatchLine | undefined {
    const text = line.toString('utf8').trim();
    if (!text) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      records.push(this.options.recorder.marker(this.options.request, 'error', { message: `malformed watch line (${(error as Error).message}): ${text.slice(0, 200)}` }, observedAt));
      return undefined;
    }
    const event = json as Partial<WatchLine>;
    if (!event || typeof event !== 'object' || !types.has(event.type as string) || typeof event.object !== 'object' || event.object === null) {
      records.push(this.options.recorder.marker(this.options.request, 'error', { message: `unexpected watch line: ${text.slice(0, 200)}` }, observedAt));
      return undefined;
    }
    return event as WatchLine;
  }

  /** The records of one event as the controller received it. */
  private recordEvent(event: WatchLine, records: SessionRecord[], observedAt: string): void {
    const { request, recorder } = this.options;
    if (event.type === 'ERROR') {
      const status = event.object;
      const code = typeof status.code === 'number' ? status.code : undefined;
      const message = typeof status.message === 'string' ? status.message : JSON.stringify(status).slice(0, 200);
      // In-stream 410 Expired: the resume's RV is too old (apiserver cacher.go newErrWatcher); the client relists.
      if (code === 410 || status.reason === 'Expired' || status.reason === 'Gone') records.push(recorder.marker(request, 'gone', { code: 410, resourceVersion: this.lastRV ?? request.query.get('resourceVersion') ?? undefined, message }, observedAt));
      else records.push(recorder.marker(request, 'error', { code, message: `${typeof status.reason === 'string' ? status.reason : 'ERROR'}: ${message}` }, observedAt));
      return;
    }
    const record = recorder.watchRecord(request, event.type, event.object, 'watch', observedAt);
    if (record.record === 'watch') {
      if (event.type === 'BOOKMARK') {
        const annotations = (event.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
        if (this.initialEvents && annotations?.['k8s.io/initial-events-end'] === 'true') {
          // The initial state is complete: client-go replaces its store now (reflector.go watchList → Replace).
          // Written as list-finished so the fold's Replace runs whether or not it reads bookmark bodies.
          records.push(recorder.marker(request, 'list-finished', { resourceVersion: record.resourceVersion, count: this.initialCount, message: `${this.initialCount} initial event(s)` }, observedAt));
          recorder.saveSnapshot(request, record.resourceVersion, this.initialItems);
          this.initialItems = [];
          this.initialEvents = false;
        }
      } else {
        this.events += 1;
        if (this.initialEvents) {
          this.initialCount += 1;
          if (event.type === 'ADDED') this.initialItems.push(event.object);
        }
      }
      this.lastRV = record.resourceVersion;
    }
    records.push(record);
  }

  // ---- line mode (faults) ---------------------------------------------------------------------------------------

  private enqueue(line: Buffer): void {
    if (this.holding) {
      this.holding.lines.push(line);
      return;
    }
    const { request, recorder, faults } = this.options;
    const scratch: SessionRecord[] = [];
    const event = this.parse(line, scratch, recorder.observedAt());
    const decision =
      event && event.type !== 'ERROR'
        ? faults.onEvent({
            group: request.group,
            resource: request.resource,
            watchNamespace: request.namespace,
            type: event.type,
            namespace: event.object.metadata?.namespace ?? null,
            name: event.object.metadata?.name ?? null,
          })
        : undefined;
    if (decision?.action === 'coalesce' && event) {
      // Hold this event and everything behind it for the window; then deliver in order, the object's last version
      // only (its earlier ones in the window are hidden: unobserved state). The watch's RV order is kept.
      const holding = { lines: [line], uid: event.object.metadata?.uid, decision };
      this.holding = holding;
      this.queue = this.queue.then(async () => {
        await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
        this.holding = undefined;
        if (!this.ended) this.release(holding);
      });
      return;
    }
    this.queue = this.queue.then(async () => {
      if (this.ended) return;
      if (!event) {
        recorder.events(scratch);
        this.write(line);
        return;
      }
      // Decided before the faults stopped but not yet applied: from the stop on, nothing is injected.
      if (!decision || !faults.active) return this.deliver(line, event);
      await this.apply(decision, line, event);
    });
  }

  private release(holding: { lines: Buffer[]; uid: string | undefined; decision: FaultDecision }): void {
    const { recorder, request, faults } = this.options;
    const scratch: SessionRecord[] = [];
    const parsed = holding.lines.map((line) => ({ line, event: this.parse(line, scratch, recorder.observedAt()) }));
    recorder.events(scratch);
    if (!faults.active) {
      // The faults stopped during the window: what was held goes out as it came, nothing hidden.
      for (const p of parsed) {
        if (p.event) this.deliver(p.line, p.event);
        else this.write(p.line);
      }
      return;
    }
    let last = -1;
    parsed.forEach((p, i) => {
      if (holding.uid && p.event && p.event.type !== 'ERROR' && p.event.type !== 'BOOKMARK' && p.event.object.metadata?.uid === holding.uid) last = i;
    });
    const ofObject = (p: (typeof parsed)[number]) => holding.uid !== undefined && p.event !== undefined && p.event.type !== 'ERROR' && p.event.type !== 'BOOKMARK' && p.event.object.metadata?.uid === holding.uid;
    const hidden = parsed.filter((p, i) => ofObject(p) && i !== last).map((p) => p.event!.object.metadata?.resourceVersion ?? '?');
    const kept = parsed[last]?.event?.object.metadata;
    // The marker first: what follows (a generation that jumped) is then explained by it.
    recorder.mark(request, 'fault', {
      resourceVersion: kept?.resourceVersion,
      message: `fault "${holding.decision.ruleName}": held ${kept?.namespace ? `${kept.namespace}/` : ''}${kept?.name ?? '?'} for ${holding.decision.delayMs} ms and delivered only its last version (resourceVersion ${kept?.resourceVersion ?? '?'})${hidden.length ? `; hid resourceVersion(s) ${hidden.join(', ')}` : '; nothing newer came'}`,
    });
    parsed.forEach((p, i) => {
      if (ofObject(p) && i !== last) return;
      if (p.event) this.deliver(p.line, p.event);
      else this.write(p.line);
    });
  }

  private deliver(line: Buffer, event: WatchLine): void {
    const records: SessionRecord[] = [];
    this.recordEvent(event, records, this.options.recorder.observedAt());
    this.write(line);
    this.options.recorder.events(records);
  }

  private write(line: Buffer): void {
    if (!this.ended) this.options.response.write(line);
  }

  private async apply(decision: FaultDecision, line: Buffer, event: WatchLine): Promise<void> {
    const { request, recorder, faults, streamKey } = this.options;
    const meta = event.object.metadata;
    const what = `the ${event.type} of ${meta?.namespace ? `${meta.namespace}/` : ''}${meta?.name ?? '?'} at resourceVersion ${meta?.resourceVersion ?? '?'}`;
    const fault = (message: string, code?: number) =>
      recorder.mark(request, 'fault', { resourceVersion: meta?.resourceVersion, code, message: `fault "${decision.ruleName}": ${message}` });
    switch (decision.action) {
      case 'drop':
        fault(`dropped ${what}`);
        return;
      case 'duplicate':
        this.deliver(line, event);
        fault(`delivered ${what} twice`);
        this.deliver(line, event);
        return;
      case 'delay':
        fault(`held ${what} for ${decision.delayMs} ms (later events wait behind it)`);
        await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
        this.deliver(line, event);
        return;
      case 'close':
        this.deliver(line, event);
        fault(`closed the watch after ${what}`);
        this.closeReason = `closed by fault "${decision.ruleName}"`;
        this.options.abortUpstream();
        this.endResponse();
        return;
      case 'expire':
        // The watch cache moved past this event while the client was away: it never gets it, and its resume is
        // answered 410 Expired (server.ts), so it relists and finds the object's current state (or its absence).
        fault(`withheld ${what} and closed the watch; its resume will be answered 410 Expired`, 410);
        faults.armExpiry(streamKey, decision);
        this.closeReason = `closed by fault "${decision.ruleName}"`;
        this.options.abortUpstream();
        this.endResponse();
        return;
      case 'fail':
      case 'timeout':
      case 'stale-list':
      case 'coalesce':
        return this.deliver(line, event);
    }
  }

  private endResponse(): void {
    if (this.ended) return;
    this.options.response.end();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.options.recorder.mark(this.options.request, 'watch-closed', { resourceVersion: this.lastRV, count: this.events, message: this.closeReason });
  }
}
