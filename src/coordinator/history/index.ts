/** The history's front door: what `run`, `history`, `compare`, `trend` and `report` use of it. */
export { buildHistoryEntry } from './build-history-entry';
export type { HistoryEntry } from './history-entry';
export { openHistoryStore, type HistoryLocation, type HistoryStore } from './history-store';
export { loadEntries } from './load-entries';
export { resolveRunRef } from './resolve-run-ref';
