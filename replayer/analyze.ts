import { CheckConfig, enabledKinds, type CheckConfigInput } from '../model/check-config.js';
import { findingKinds, type Coverage, type Finding, type FindingKind, type StoredRecord } from '../model/index.js';
import { detectorFactories, HandlerHistory, type Detector, type DetectorContext, type Shared } from './detectors/index.js';
import { roleOf, WriterCensus, type ControllerIdentity } from './controller-identity.js';
import { coverageOf, InputTally } from './coverage.js';
import { Fold, type FoldStats } from './fold.js';
import { InjectedFaults } from './injected-faults.js';
import type { Fact, RecordAnnotation } from './state.js';
import { applySuppressions } from './suppress.js';

export interface AnalyzeOptions {
  /** Thresholds, only/skip and suppressions, as in a `--config` file (failOn is the caller's business). */
  config?: CheckConfigInput;
  /** An already parsed config (what `kreplay check` builds from flags and file); wins over `config`. */
  parsedConfig?: CheckConfig;
  /** Collect per-record annotations (seq → tags) for the TUI. Costs memory per annotated record; off for `check`. */
  annotate?: boolean;
  /**
   * The controller under debug: its field managers or audit users (`--controller`, the session's config). Wins over
   * the config's `controller`. Without either, the busiest writer that is neither Kubernetes nor a tool.
   */
  controller?: readonly string[];
}

export interface AnalysisStats extends FoldStats {
  /** The finding kinds that ran. */
  kinds: FindingKind[];
  findings: Record<FindingKind, number>;
  suppressed: number;
  /** Things the user should know that are not findings (malformed suppress annotations). */
  problems: string[];
  /** Whom the alarms are about. */
  controller: ControllerIdentity;
  /** Per kind that ran: whether the session held the input it needs (no findings means little where it did not). */
  coverage: Coverage;
}

export interface Analysis {
  /** Sorted by first seq, then kind. Suppressed findings are included, marked `suppressed`. */
  findings: Finding[];
  stats: AnalysisStats;
  /** seq → annotations; empty unless `annotate` was set. */
  annotations: ReadonlyMap<number, readonly RecordAnnotation[]>;
}

/** The incremental form of analyze(): push records in seq order; report as often as wanted, finish once. */
export interface Analyzer {
  push(record: StoredRecord): void;
  /**
   * The analysis of the records pushed so far — exactly analyze() of them — without ending: more records may be
   * pushed after it (the recorder's online detection reports while it records, recorder/live-findings.ts).
   */
  report(): Analysis;
  /** report(), after which the analyzer takes no more records. */
  finish(): Analysis;
}

export function createAnalyzer(options: AnalyzeOptions = {}): Analyzer {
  const config = options.parsedConfig ?? CheckConfig.parse(options.config ?? {});
  const kinds = enabledKinds(config);
  const fold = new Fold({ annotate: options.annotate ?? false });
  let handlerHistory: HandlerHistory | null = null;
  const shared: Shared = { handlerHistory: () => (handlerHistory ??= new HandlerHistory()) };
  const detectors: Detector[] = kinds.map((kind) => detectorFactories[kind](shared));
  const handlerFacts: ReadonlySet<Fact['type']> = new Set(handlerHistory ? HandlerHistory.facts : []);
  // Each fact goes only to the detectors that observe its type.
  const observers = new Map<Fact['type'], Detector[]>();
  for (const detector of detectors) {
    for (const type of detector.facts) {
      const list = observers.get(type);
      if (list) list.push(detector);
      else observers.set(type, [detector]);
    }
  }
  const census = new WriterCensus();
  const inputs = new InputTally();
  const injected = new InjectedFaults();
  const given = options.controller?.length ? options.controller : config.controller;
  let identity: ControllerIdentity | null = null;
  const context: DetectorContext = {
    thresholds: config.thresholds,
    state: fold.state,
    resolve: (ref) => fold.resolve(ref),
    // Inferred from every writer seen so far: computed once per report, since a later writer may change it.
    controller: () => (identity ??= census.identify(given)),
  };
  let lastSeq = 0;
  let finished = false;
  return {
    push(record) {
      if (finished) throw new Error('analyzer already finished');
      if (record.seq <= lastSeq) throw new Error(`records must come in increasing seq order: ${record.seq} after ${lastSeq}`);
      lastSeq = record.seq;
      inputs.observe(record);
      injected.observe(record);
      const facts = fold.evolve(record);
      for (let i = 0; i < facts.length; i++) {
        const fact = facts[i]!;
        if (fact.type === 'version' || fact.type === 'api' || fact.type === 'reconcile' || fact.type === 'reconcile-start' || fact.type === 'handler') census.observe(fact);
        // Shared models first: a detector's observe may read what they make of this fact.
        if (handlerFacts.has(fact.type)) handlerHistory!.observe(fact);
        const list = observers.get(fact.type);
        if (list) for (let j = 0; j < list.length; j++) list[j]!.observe(fact, context);
      }
    },
    report,
    finish() {
      finished = true;
      return report();
    },
  };

  function report(): Analysis {
    identity = null;
    fold.finish();
    const findings = detectors.flatMap((d) => d.finish(context));
    const controller = context.controller();
    for (const finding of findings) holdToController(finding, controller);
    injected.explain(findings);
    findings.sort((a, b) => a.firstSeq - b.firstSeq || findingKinds.indexOf(a.kind) - findingKinds.indexOf(b.kind) || a.id.localeCompare(b.id));
    // Ids are kind:object:firstSeq; two rules of one kind starting on the same record get the rule appended.
    const seen = new Set<string>();
    for (const finding of findings) {
      if (seen.has(finding.id)) finding.id = `${finding.id}:${finding.rule}`;
      seen.add(finding.id);
    }
    const problems = applySuppressions(findings, config.suppress, (finding) =>
      finding.object.uid ? fold.objectByUid(finding.object.uid)?.suppressAnnotation : undefined,
    );
    const counts = Object.fromEntries(findingKinds.map((k) => [k, 0])) as Record<FindingKind, number>;
    let suppressed = 0;
    for (const finding of findings) {
      counts[finding.kind]++;
      if (finding.suppressed) suppressed++;
    }
    return {
      findings,
      stats: { ...fold.state.stats, kinds, findings: counts, suppressed, problems, controller, coverage: coverageOf(inputs, kinds) },
      annotations: fold.state.annotations ?? new Map(),
    };
  }
}

/**
 * Alarms are about the controller under debug: what a Kubernetes component or another actor did is context. A
 * finding that blames someone else stays, at info, saying whom it is about. When no controller is known (given or
 * inferred), whoever wrote it is the best guess, and only Kubernetes' own components are held back.
 */
function holdToController(finding: Finding, controller: ControllerIdentity): void {
  const blame = finding.blame;
  if (!blame) return;
  // A detector may know better (a finalizer's owner; a request the import marked as the controller's).
  if (blame.role !== 'controller' && blame.via !== 'finalizer') blame.role = roleOf(controller, blame.actor);
  if (blame.role === 'controller' || finding.severity === 'info') return;
  // Nobody to hold it to (every writer is Kubernetes or a tool): only Kubernetes' own doings are context.
  if (controller.basis === 'unknown' && blame.role !== 'system') return;
  finding.severity = 'info';
  const whose = blame.role === 'system' ? 'a Kubernetes component' : 'not the controller under debug';
  const debugged = controller.names.length ? ` (${controller.names[0]}${controller.basis === 'inferred' ? ', inferred' : ''})` : '';
  finding.message = `${finding.message} Context, not an alarm: this is ${blame.actor}'s, ${whose}${blame.role === 'system' ? '' : debugged}.`;
}

/**
 * Folds a session's records (in seq order) and runs the detectors over them, streaming: memory is bounded by the
 * live objects, not by the number of records. Pure: same records, same options, same result.
 */
export function analyze(records: Iterable<StoredRecord>, options: AnalyzeOptions = {}): Analysis {
  const analyzer = createAnalyzer(options);
  for (const record of records) analyzer.push(record);
  return analyzer.finish();
}
