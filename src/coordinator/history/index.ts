export { buildHistoryEntry } from './build-history-entry';
export { environmentFingerprint, fingerprintDifferences, type EnvironmentFingerprint } from './environment-fingerprint';
export { HISTORY_FORMAT_VERSION, summaryOf, type HistoryEntry, type HistoryPhase, type HistorySummary } from './history-entry';
export { openHistoryStore, type HistoryFilter, type HistoryLocation, type HistoryStore } from './history-store';
export { planHash } from './plan-hash';
export { resolveRunRef, type RunRefContext } from './resolve-run-ref';
