/** Option parsers and options shared by several commands. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_PREFIX, DEFAULT_REDIS_TIMEOUT_MS, MAX_REQUEST_LOG_SIZE } from '../shared/defaults';
import { EXIT, UsageError } from '../shared/errors';
import { redactRedisUrl } from '../shared/queue-layout';
import { parseDurationMs } from '../shared/units';

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return parsed;
}

/** `--requests-max`: bounded, since each kept request travels back with its shard's result (through Redis when distributed). */
export function requestLogCap(value: string): number {
  const parsed = positiveInt(value);
  if (parsed > MAX_REQUEST_LOG_SIZE) throw new InvalidArgumentError(`must be at most ${MAX_REQUEST_LOG_SIZE}`);
  return parsed;
}

export function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return parsed;
}

/** A duration written as plans write them ("30s", "500ms"), in milliseconds. */
export function durationMs(value: string): number {
  const parsed = parseDurationMs(value);
  if (parsed === undefined || parsed <= 0) throw new InvalidArgumentError('must be a duration with a unit, such as "30s" or "500ms"');
  return parsed;
}

// Redis URLs may hold a password: prefer the environment, which `ps` and shell history do not show.
export function redisOption(): Option {
  return new Option('--redis <url>', 'Redis URL (redis:// or rediss://); default: $GRYM_REDIS_URL').env('GRYM_REDIS_URL');
}

export function prefixOption(): Option {
  return new Option('--prefix <prefix>', 'queue prefix shared by coordinator, workers and dashboard').default(DEFAULT_PREFIX);
}

export function redisTimeoutOption(): Option {
  return new Option(
    '--redis-timeout <duration>',
    'how long to wait for Redis to answer (unreachable, starting) before giving up with exit 3, such as 10s',
  )
    .argParser(durationMs)
    .default(DEFAULT_REDIS_TIMEOUT_MS, '10s');
}

/** The Redis URL, or a usage error saying how to give one; never echoes a password. */
export function requireRedis(url: string | undefined): string {
  if (!url) throw new UsageError('this command needs a Redis URL', 'pass --redis redis://host:6379 or set GRYM_REDIS_URL');
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new UsageError(
      `the Redis URL ${JSON.stringify(redactRedisUrl(url))} is not a redis:// or rediss:// URL`,
      'write redis://host:6379, redis://:password@host:6379 with a password, or rediss://... for TLS',
    );
  }
  return url;
}

/**
 * Options that only mean something with Redis, given (on the command line, not by default) to a
 * command that has none: a usage error naming them, rather than silently ignoring them.
 */
export function rejectWithoutRedis(command: Command, attributeNames: readonly string[], redisUrl: string | undefined): void {
  if (redisUrl) return;
  const given = attributeNames.filter((name) => {
    const source = command.getOptionValueSource(name);
    return source !== undefined && source !== 'default';
  });
  if (given.length === 0) return;
  const flags = given.map((name) => command.options.find((option) => option.attributeName() === name)?.long ?? name);
  throw new UsageError(
    `${flags.join(', ')} ${flags.length === 1 ? 'needs' : 'need'} Redis (a distributed run), and none was given`,
    'pass --redis redis://host:6379 or set GRYM_REDIS_URL, or drop the option to run locally',
  );
}

/** Waits for SIGINT or SIGTERM, then runs `stop` once. */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    // The listener stays: removing the last one would give a second signal Node's default (a kill
    // mid-cleanup). A second signal while stopping ends the process at once instead.
    const onSignal = () => {
      if (stopping) process.exit(EXIT.aborted);
      stopping = true;
      void stop().finally(() => {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        resolve();
      });
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

/** How a command ends: the exit code it sets. */
export type SetExitCode = (code: number) => void;
