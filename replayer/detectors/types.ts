import type { Finding, FindingKind, ObjectRef } from '../../model/index.js';
import type { ResolvedThresholds } from '../../model/check-config.js';
import type { ControllerIdentity } from '../controller-identity.js';
import type { FoldState } from '../fold.js';
import type { Fact, ObjectState } from '../state.js';
import type { HandlerHistory } from './controller-handlers.js';

/** What a detector can see besides the facts: thresholds and the fold's read-only state. */
export interface DetectorContext {
  readonly thresholds: ResolvedThresholds;
  readonly state: Readonly<FoldState>;
  resolve(ref: ObjectRef): ObjectState | undefined;
  /** The controller under debug. Only final once every record is in: call it from finish(). */
  controller(): ControllerIdentity;
}

/**
 * A detector is incremental and pure: it observes the fold's facts in record order, keeps what it needs (bounded
 * by live objects), and turns it into findings at the end. It never reads the clock: time is in the records.
 *
 * finish() reports as if the session ended at the last fact, and must leave the detector as it found it: the
 * recorder's online analysis calls it again and again while facts keep coming (what it closes or adds goes to
 * FindingGroups.scratch() or a copy, never to the state the next fact meets).
 */
export interface Detector {
  readonly kind: FindingKind;
  /** The fact types it observes; the others are never passed to it (a million records, nine detectors). */
  readonly facts: readonly Fact['type'][];
  observe(fact: Fact, context: DetectorContext): void;
  finish(context: DetectorContext): Finding[];
}

/**
 * Models more than one detector reads, built once per analysis and fed by the analyzer (before the detectors see a
 * fact), so two detectors never follow the same thing twice: a detector asks for one when it is created.
 */
export interface Shared {
  /** The controllers' handler calls (duplicate-event and lost-event): created on first ask. */
  handlerHistory(): HandlerHistory;
}

export type DetectorFactory = (shared: Shared) => Detector;
