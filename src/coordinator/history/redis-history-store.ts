/**
 * The shared history in the Redis that distributed runs use, under the queue prefix:
 * - `{prefix}:history:run:<run id>`: the entry, gzipped JSON;
 * - `{prefix}:history:summary:<run id>`: its summary (what `history` lists, without the report);
 * - `{prefix}:history:runs` and `{prefix}:history:plan:<plan name>`: sorted sets of run ids by start time.
 * Entries and summaries expire after the retention; the sorted sets drop members older than it on
 * every save, and members whose summary has expired when listed.
 */
import type { Redis } from 'ioredis';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RedisUnavailableError } from '../../shared/errors';
import { queueLayout, redactRedisError, redactRedisUrl } from '../../shared/queue-layout';
import { connectRedis, disconnectRedis } from '../../shared/redis-connection';
import { HISTORY_FORMAT_VERSION, summaryOf, type HistoryEntry, type HistorySummary } from './history-entry';
import type { HistoryFilter, HistoryStore } from './history-store';

export class RedisHistoryStore implements HistoryStore {
  readonly where: string;
  private readonly connection: Redis;
  private readonly base: string;

  constructor(
    private readonly url: string,
    prefix: string,
    private readonly retentionMs: number,
  ) {
    this.where = redactRedisUrl(url);
    this.base = `${queueLayout(prefix).prefix}:history`;
    this.connection = connectRedis(url, 'grym-history', { failFast: true });
  }

  private key(kind: 'run' | 'summary', runId: string): string {
    return `${this.base}:${kind}:${runId}`;
  }

  private setKey(plan: string | undefined): string {
    return plan === undefined ? `${this.base}:runs` : `${this.base}:plan:${plan}`;
  }

  /** Redis errors as one redacted line (exit 3), never the password. */
  private async guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new RedisUnavailableError(`cannot ${what} the history in Redis at ${this.where} (${redactRedisError(error, this.url)})`);
    }
  }

  async save(entry: HistoryEntry): Promise<void> {
    const startedAtMs = Date.parse(entry.report.startedAt);
    const oldest = Date.now() - this.retentionMs;
    await this.guarded('write', async () => {
      await this.connection
        .multi()
        .set(this.key('run', entry.runId), gzipSync(JSON.stringify(entry)), 'PX', this.retentionMs)
        .set(this.key('summary', entry.runId), JSON.stringify(summaryOf(entry)), 'PX', this.retentionMs)
        .zadd(this.setKey(undefined), startedAtMs, entry.runId)
        .zadd(this.setKey(entry.planName), startedAtMs, entry.runId)
        .zremrangebyscore(this.setKey(undefined), '-inf', `(${oldest}`)
        .zremrangebyscore(this.setKey(entry.planName), '-inf', `(${oldest}`)
        .exec();
    });
  }

  async load(runId: string): Promise<HistoryEntry | undefined> {
    const stored = await this.guarded('read', () => this.connection.getBuffer(this.key('run', runId)));
    if (!stored) return undefined;
    const entry = JSON.parse(gunzipSync(stored).toString('utf8')) as HistoryEntry;
    return entry.formatVersion === HISTORY_FORMAT_VERSION ? entry : undefined;
  }

  async list(filter: HistoryFilter = {}): Promise<HistorySummary[]> {
    return this.guarded('read', async () => {
      const setKey = this.setKey(filter.plan);
      const ids = await this.connection.zrevrange(setKey, 0, filter.limit === undefined ? -1 : filter.limit - 1);
      if (ids.length === 0) return [];
      const texts = await this.connection.mget(ids.map((runId) => this.key('summary', runId)));
      const expired = ids.filter((_, index) => texts[index] === null);
      if (expired.length > 0) await this.connection.zrem(setKey, ...expired);
      return texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as HistorySummary);
    });
  }

  async close(): Promise<void> {
    disconnectRedis(this.connection);
  }
}
