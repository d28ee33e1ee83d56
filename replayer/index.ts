/**
 * The replayer: a pure engine that folds a session's records into per-object state and the controller's view,
 * and runs the detectors. It imports only model/ (see README.md for the data flow).
 */
export { analyze, createAnalyzer, type Analysis, type AnalysisStats, type AnalyzeOptions, type Analyzer } from './analyze.js';
export { Fold, evolve, kindKey, type FoldOptions, type FoldState, type FoldStats } from './fold.js';
export {
  annotationTags,
  deliveryClasses,
  gapCauses,
  viewOrigins,
  type AnnotationTag,
  type DeliveryClass,
  type Fact,
  type GapCause,
  type ObjectState,
  type RecordAnnotation,
  type StreamState,
  type Version,
} from './state.js';
export { findingsBySeq, objectRefOf, objectTimeline, type TimelineEntry } from './timeline.js';
export { detectorFactories, type Detector, type DetectorContext } from './detectors/index.js';
export { matchSuppression } from './suppress.js';
export { compareRV, rvNumber } from './rv.js';
export { formatDuration } from './time.js';
export { changeAuthor, deleterOf, diffObjects, diffSections, type ChangeAuthor, type DiffEntry, type ObjectDiff } from './diff.js';
export { roleOf, WriterCensus, type ControllerIdentity } from './controller-identity.js';
export { coverageHint, coverageOf, InputTally } from './coverage.js';
