/**
 * Where runs are kept: a folder (the default, nothing to start) or the Redis that distributed runs
 * use (shared by a team's CI runners). Both keep the same entries and answer the same questions.
 */
import type { HistoryEntry, HistorySummary } from './history-entry';

export interface HistoryFilter {
  /** Only runs of this plan. */
  plan?: string;
  /** At most this many, newest first. */
  limit?: number;
}

export interface HistoryStore {
  /** Where it keeps runs, in words: a folder, or a Redis URL without its password. */
  readonly where: string;
  save(entry: HistoryEntry): Promise<void>;
  /** Kept runs, newest first (by start time). */
  list(filter?: HistoryFilter): Promise<HistorySummary[]>;
  /** A kept run, or undefined when there is none with this id (or it expired). */
  load(runId: string): Promise<HistoryEntry | undefined>;
  close(): Promise<void>;
}

export type HistoryLocation = { kind: 'folder'; dir: string } | { kind: 'redis'; url: string; prefix: string; retentionMs: number };

/** The store at `location`; the Redis one is loaded only when asked for (ioredis stays out of local runs). */
export async function openHistoryStore(location: HistoryLocation): Promise<HistoryStore> {
  if (location.kind === 'folder') {
    const { FolderHistoryStore } = await import('./folder-history-store.js');
    return new FolderHistoryStore(location.dir);
  }
  const { RedisHistoryStore } = await import('./redis-history-store.js');
  return new RedisHistoryStore(location.url, location.prefix, location.retentionMs);
}

/** Newest first, then by id, so that equal start times list in a fixed order. */
export function newestFirst(a: HistorySummary, b: HistorySummary): number {
  return b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
}
