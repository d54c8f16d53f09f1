/**
 * ioredis connections for BullMQ. `rediss://` URLs get TLS from ioredis itself; the password stays
 * inside the URL and is never logged (see `redactRedisUrl`).
 */
import IORedis, { type Redis } from 'ioredis';

/** A connection BullMQ workers can block on: no per-request retry limit, reconnect forever. */
export function connectRedis(url: string, name: string): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    // Back off up to 2 s between reconnects, so a restarted Redis is found again quickly.
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
}
