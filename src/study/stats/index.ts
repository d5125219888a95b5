// The statistics of a study's evidence, in one home: t and BCa intervals, the reported interval, paired verdicts.
export { studentTCdf, studentTQuantile, incompleteBeta, tInterval } from './t.js';
export { bcaInterval, quantileSorted, BOOTSTRAP_SEED, type BootstrapOptions } from './bootstrap.js';
export { meanInterval, metricRange, differenceRange, INTERVAL_METHOD, UNBOUNDED, type MetricRange } from './interval.js';
export { pairedDifference, verdictOf, type PairedDifference } from './paired.js';
