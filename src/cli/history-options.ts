/**
 * Where the history is, for `run`, `history`, `compare` and `report`: `--history DIR` (or a
 * redis:// URL, for a shared history reached from local runs), else GRYM_HISTORY_DIR, else the
 * Redis of `--redis` (the distributed runs' own), else `.grym-perf/history` under the current
 * directory.
 */
import { InvalidArgumentError, Option } from 'commander';
import { openHistoryStore, type HistoryLocation, type HistoryStore } from '../coordinator/history';
import { DEFAULT_HISTORY_DIR, DEFAULT_HISTORY_RETENTION_MS } from '../shared/defaults';
import { durationMs, requireRedis } from './options';

export interface HistoryFlags {
  /** A folder or a Redis URL; false after --no-history. */
  history?: string | false;
  historyRetention: number;
  redis?: string;
  prefix: string;
}

export function historyOption(): Option {
  return new Option(
    '--history <dir-or-url>',
    `where runs are kept: a folder, or a redis:// URL for a history shared between machines (default: $GRYM_HISTORY_DIR, the --redis of a distributed run, or ${DEFAULT_HISTORY_DIR})`,
  ).env('GRYM_HISTORY_DIR');
}

/** "30d", "12h", "90m": how long the Redis history keeps a run. */
function retention(value: string): number {
  const days = /^(\d+(?:\.\d+)?)\s*d$/.exec(value.trim());
  const parsed = days ? Number(days[1]) * 24 * 3_600_000 : durationMs(value);
  if (!(parsed > 0 && Number.isFinite(parsed))) throw new InvalidArgumentError('must be a duration such as "30d" or "12h"');
  return parsed;
}

export function historyRetentionOption(): Option {
  return new Option('--history-retention <duration>', 'how long the Redis history keeps each run, such as 30d')
    .argParser(retention)
    .default(DEFAULT_HISTORY_RETENTION_MS, '30d');
}

function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value);
}

/** The history these flags name; undefined after --no-history. */
export function historyLocation(flags: HistoryFlags): HistoryLocation | undefined {
  if (flags.history === false) return undefined;
  const redisStore = (url: string): HistoryLocation => ({
    kind: 'redis',
    url: requireRedis(url),
    prefix: flags.prefix,
    retentionMs: flags.historyRetention,
  });
  if (flags.history !== undefined && flags.history !== '') {
    return isRedisUrl(flags.history) ? redisStore(flags.history) : { kind: 'folder', dir: flags.history };
  }
  if (flags.redis) return redisStore(flags.redis);
  return { kind: 'folder', dir: DEFAULT_HISTORY_DIR };
}

/**
 * The history these flags name, opened for reading (`history`, `compare`, `trend`): a Redis one is
 * checked first, so that one away or refusing the password ends in one line (exit 3). Without a
 * history (--no-history), the default folder.
 */
export async function openHistory(flags: HistoryFlags & { redisTimeout: number }): Promise<HistoryStore> {
  const location = historyLocation(flags) ?? { kind: 'folder', dir: DEFAULT_HISTORY_DIR };
  if (location.kind === 'redis') {
    const { ensureRedisReachable } = await import('../shared/redis-connection.js');
    await ensureRedisReachable(location.url, flags.redisTimeout);
  }
  return openHistoryStore(location);
}
