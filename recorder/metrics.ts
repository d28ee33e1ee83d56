import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The recorder's Prometheus metrics, on a registry of its own (never prom-client's global one, so two recorders in
 * one test process do not collide). Served at /metrics. Names follow Prometheus conventions: _total counters,
 * _seconds histograms, base units.
 */
export class RecorderMetrics {
  readonly registry = new Registry();

  readonly watchEvents = new Counter({
    name: 'kreplay_recorder_watch_events_total',
    help: 'Watch events received, by resource and event type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).',
    labelNames: ['resource', 'type'] as const,
    registers: [this.registry],
  });
  readonly listedObjects = new Counter({
    name: 'kreplay_recorder_listed_objects_total',
    help: 'Objects recorded from lists and relists, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly lists = new Counter({
    name: 'kreplay_recorder_lists_total',
    help: 'Completed lists (the first sync and every relist), by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly tombstones = new Counter({
    name: 'kreplay_recorder_tombstones_total',
    help: 'Objects found gone by a relist without a DELETED event (client-go DeletedFinalStateUnknown), by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'kreplay_recorder_watch_restarts_total',
    help: 'Watches re-opened, by resource and reason (closed, error, gone, inactive, backpressure).',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly backpressurePauses = new Counter({
    name: 'kreplay_recorder_backpressure_pauses_total',
    help: 'Times a watch stopped reading its stream because the queue was full (the disk did not keep up), by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly backpressureSeconds = new Counter({
    name: 'kreplay_recorder_backpressure_seconds_total',
    help: 'Time watches spent not reading their stream because the queue was full, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly gone = new Counter({
    name: 'kreplay_recorder_gone_total',
    help: '410 Gone answers (in-stream ERROR on a watch, or HTTP 410 on a list), by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly streamErrors = new Counter({
    name: 'kreplay_recorder_stream_errors_total',
    help: 'Watch lines that could not be used (malformed JSON, unexpected shape), by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly synced = new Gauge({
    name: 'kreplay_recorder_watch_synced',
    help: '1 once the resource has been listed and is being watched, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly ingestRecords = new Counter({
    name: 'kreplay_recorder_ingest_records_total',
    help: 'Records accepted on /v1/records, by record kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly ingestErrors = new Counter({
    name: 'kreplay_recorder_ingest_errors_total',
    help: 'Rejected ingest and audit requests, by endpoint and reason (invalid, too_large, rate_limited, unauthorized, queue_full).',
    labelNames: ['endpoint', 'reason'] as const,
    registers: [this.registry],
  });
  readonly auditEvents = new Counter({
    name: 'kreplay_recorder_audit_events_total',
    help: 'Audit events received on /v1/audit, by outcome (recorded, skipped).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'kreplay_recorder_queue_depth',
    help: 'Records waiting in memory to be committed.',
    registers: [this.registry],
  });
  readonly queueCapacity = new Gauge({
    name: 'kreplay_recorder_queue_capacity',
    help: 'Records the queue holds before watches are slowed and ingest is dropped.',
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'kreplay_recorder_dropped_records_total',
    help: 'Records dropped because the queue was full, by source (ingest, audit). Each drop is also a marker.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly committedRecords = new Counter({
    name: 'kreplay_recorder_committed_records_total',
    help: 'Records committed to the database.',
    registers: [this.registry],
  });
  readonly pairedRequests = new Counter({
    name: 'kreplay_recorder_paired_requests_total',
    help: 'API requests reported by both the audit webhook and the SDK, stored as one record (the later report merged into the first).',
    registers: [this.registry],
  });
  readonly commitFailures = new Counter({
    name: 'kreplay_recorder_commit_failures_total',
    help: 'Failed commits (the batch is retried; a record the store rejects is replaced by an error marker).',
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'kreplay_recorder_commit_duration_seconds',
    help: 'Time one batch transaction takes.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly latencySeconds = new Histogram({
    name: 'kreplay_recorder_receive_to_commit_seconds',
    help: 'From receiving a record (watch line, ingest or audit request) to its commit.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly retentionDeletedSessions = new Counter({
    name: 'kreplay_recorder_retention_deleted_sessions_total',
    help: 'Sessions deleted by retention.',
    registers: [this.registry],
  });

  /**
   * Online detection (live-findings.ts): the current findings and the ones ever found, by kind and severity only —
   * object names in labels would make one series per object (cardinality). Suppressed findings are not counted.
   */
  readonly findings = new Gauge({
    name: 'kreplay_findings',
    help: 'Findings the detectors report on the live session now (not suppressed), by finding kind and severity.',
    labelNames: ['kind', 'severity'] as const,
    registers: [this.registry],
  });
  readonly findingsTotal = new Counter({
    name: 'kreplay_findings_total',
    help: 'Findings the detectors reported since the recorder started (each counted once, when first found; not suppressed), by kind and severity.',
    labelNames: ['kind', 'severity'] as const,
    registers: [this.registry],
  });
  readonly analysisLag = new Gauge({
    name: 'kreplay_recorder_analysis_lag_records',
    help: 'Records committed to the live session that online detection has not analysed yet. Growing: the detectors cannot keep up within detection.cpuShare, and findings come late.',
    registers: [this.registry],
  });

  readonly analysisStopped = new Gauge({
    name: 'kreplay_recorder_analysis_stopped',
    help: '1 once online detection stopped for good: the heap kept more than detection.heapShare of its limit, or its worker ended (GET /v1/findings says why); the recording goes on.',
    registers: [this.registry],
  });

  readonly analysisRestarts = new Counter({
    name: 'kreplay_recorder_analysis_restarts_total',
    help: 'Online analysis runs that read the live session again from seq 1 because a row they had read changed (a request merged with its other source\'s report after it was analysed).',
    registers: [this.registry],
  });

  readonly analysisSeconds = new Histogram({
    name: 'kreplay_recorder_analysis_duration_seconds',
    help: 'CPU time one online analysis run of the live session takes (its reads and detectors, without the pauses between chunks).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({
        register: this.registry,
        prefix: 'kreplay_recorder_',
        // prom-client samples event-loop delay every 10 ms by default: a timer that wakes an idle sidecar 100 times a
        // second and was half of its idle CPU (1.2 % -> 0.6 % of a core at 100 ms, measured in bench/).
        eventLoopMonitoringPrecision: 100,
      });
    }
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
