/**
 * ioredis connections for BullMQ. `rediss://` URLs get TLS from ioredis itself; the password stays
 * inside the URL and never reaches a message, a log line or a report:
 * - every connection made here (and every copy BullMQ makes of it with `duplicate()`) has an error
 *   listener, so ioredis never prints its "Unhandled error event" dump, and that listener redacts
 *   the error in place (a failed `HELLO 3 AUTH default <password>` carries the password in
 *   `error.command.args`) before any other listener or rejected command sees it;
 * - BullMQ's queues and workers re-emit their connections' errors: give them `reportRedisErrors`;
 * - `ensureRedisReachable` is the preflight of every command: one line, a bounded wait, exit 3.
 */
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import IORedis, { type Redis } from 'ioredis';
import { DEFAULT_REDIS_TIMEOUT_MS } from './defaults';
import { RedisUnavailableError } from './errors';
import { redactRedisError, redactRedisUrl } from './queue-layout';

/** Where a process's Redis state changes are told: one line each. */
export type RedisLog = (line: string) => void;

export interface ConnectRedisOptions {
  /**
   * Told once when Redis becomes unreachable (or refuses the credentials) and once when every
   * connection sharing this `log` answers again, never per attempt: pass the same function to every
   * connection of a process to get one line per change for the whole process.
   */
  log?: RedisLog;
  /**
   * For commands a CLI awaits: a command fails after one reconnect attempt instead of waiting for
   * Redis to come back, so the caller can say so (BullMQ workers need it off: they block and wait).
   */
  failFast?: boolean;
}

/** The longest pause between reconnect attempts: a restarted Redis is found again within it. */
const MAX_RECONNECT_DELAY_MS = 2000;

interface RedisHealth {
  down: boolean;
  connections: Set<Redis>;
}

// One state per log function, so that the connections of one process (and BullMQ's copies of them)
// make one line per state change between them. Weak: a state goes with its log.
const healthByLog = new WeakMap<RedisLog, RedisHealth>();

function healthOf(log: RedisLog): RedisHealth {
  let health = healthByLog.get(log);
  if (!health) healthByLog.set(log, (health = { down: false, connections: new Set() }));
  return health;
}

/** Error listener, redaction and state lines for one connection, and for the copies made of it. */
function guardConnection(connection: Redis, url: string, log: RedisLog | undefined): Redis {
  const health = log ? healthOf(log) : undefined;
  health?.connections.add(connection);
  // Registered before BullMQ's own listeners, so that the error is redacted before they see it.
  connection.on('error', (error: unknown) => {
    const cause = redactRedisError(error, url);
    if (!health || !log || health.down) return;
    health.down = true;
    log(`Redis at ${redactRedisUrl(url)} unreachable (${cause}); retrying with back-off`);
  });
  connection.on('ready', () => {
    if (!health || !log || !health.down) return;
    if ([...health.connections].some((other) => other.status !== 'ready')) return;
    health.down = false;
    log(`Redis at ${redactRedisUrl(url)} reachable again`);
  });
  connection.on('end', () => health?.connections.delete(connection));
  const duplicate = connection.duplicate.bind(connection);
  connection.duplicate = (override) => guardConnection(duplicate(override), url, log);
  return connection;
}

/**
 * A connection for BullMQ. By default it waits for Redis as long as it takes (workers, the
 * dashboard), reconnecting with back-off; `failFast` connections fail commands instead.
 */
export function connectRedis(url: string, name: string, options: ConnectRedisOptions = {}): Redis {
  const connection = new IORedis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    connectionName: name,
    // Back off by 100 ms per attempt up to 2 s, so that a restarted Redis is found again quickly.
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
  });
  return guardConnection(connection, url, options.log);
}

/**
 * Closes a connection at once. A connection that already ended is left alone: ioredis would arm a
 * 2 s timer for its closed socket, and that timer keeps a CLI alive after it has finished.
 */
export function disconnectRedis(connection: Redis): void {
  if (connection.status !== 'end') connection.disconnect();
}

// Errors that mean "Redis is not there (or not for us)": the connections' own listeners tell them
// once per state change, so a queue or worker re-emitting them must not tell them again.
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const CONNECTION_ERROR_TEXT =
  /WRONGPASS|NOAUTH|NOPERM|LOADING|Connection is closed|Stream isn't writeable|max retries per request|connect ETIMEDOUT/i;

/** True for an error that says Redis cannot be reached or refused us, rather than a failed command. */
function isRedisConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) || CONNECTION_ERROR_TEXT.test(String(message ?? ''));
}

/**
 * The error listener of a BullMQ queue, worker or flow producer: without one, BullMQ prints each
 * error object whole (with the failed AUTH's arguments). Connection errors are left to the
 * connections' state lines; any other error is told through `log`, redacted, prefixed by `label`.
 */
export function reportRedisErrors(emitter: EventEmitter, url: string, log?: RedisLog, label = 'Redis'): void {
  emitter.on('error', (error: unknown) => {
    if (!isRedisConnectionError(error)) log?.(`${label}: ${redactRedisError(error, url)}`);
  });
}

/** Answers that no retry will change: wrong credentials, an unknown host, a refused certificate. */
const FATAL_TEXT = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username|ENOTFOUND|certificate|ERR_TLS|SSL/i;

/** The least time worth giving a connection attempt on loopback or a LAN. */
const MIN_PROBE_MS = 100;

type ProbeResult = { ok: true } | { ok: false; cause: string; fatal: boolean };

/** One connection attempt with PING, within `timeoutMs`. */
async function probeRedis(url: string, timeoutMs: number): Promise<ProbeResult> {
  const probe = new IORedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    connectionName: 'grym-preflight',
  });
  let lastError: unknown;
  probe.on('error', (error: unknown) => {
    redactRedisError(error, url);
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    // The cause is the connection's error; the rejection itself often only says "Connection is closed".
    const cause = redactRedisError(lastError ?? error, url);
    return { ok: false, cause, fatal: FATAL_TEXT.test(cause) };
  } finally {
    clearTimeout(timer);
    disconnectRedis(probe);
  }
}

/**
 * Checks, before a command starts, that Redis answers at `url` with the credentials given, waiting
 * up to `timeoutMs` for a Redis that refuses connections or does not answer (it may be starting).
 * Wrong credentials and unknown hosts fail at once. Otherwise one line naming the redacted URL and
 * the cause (never the password, never a stack): `RedisUnavailableError`, exit 3.
 */
export async function ensureRedisReachable(url: string, timeoutMs = DEFAULT_REDIS_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const where = redactRedisUrl(url);
  let cause = `no answer within ${timeoutMs} ms`;
  for (let attempt = 1; ; attempt++) {
    const budgetMs = Math.max(1, deadline - Date.now());
    const result = await probeRedis(url, budgetMs);
    if (result.ok) return;
    // A last attempt cut short says only "no answer": the attempt before it knew better.
    if (budgetMs >= MIN_PROBE_MS || attempt === 1) cause = result.cause;
    if (result.fatal) {
      throw new RedisUnavailableError(
        `Redis at ${where} refused this client (${result.cause})`,
        'check the host and the password in --redis or GRYM_REDIS_URL (redis://:password@host:6379)',
      );
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    await sleep(Math.min(100 * attempt, 1000, Math.max(0, remainingMs - MIN_PROBE_MS)));
  }
  throw new RedisUnavailableError(
    `cannot reach Redis at ${where} within ${formatSeconds(timeoutMs)} (${cause})`,
    'check that Redis runs there, or wait longer with --redis-timeout',
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
