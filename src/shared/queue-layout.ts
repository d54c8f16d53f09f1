/**
 * Where a distributed run lives in Redis. One prefix (in braces, so that on Redis Cluster all of a
 * queue's keys share a slot) and three queues:
 * - `runs`: one job per run, the aggregate parent; its return value is the `RunReport` and its job
 *   log holds the Markdown summary (readable on the run's page in bull-board);
 * - `phases`: one job per phase, chained so that phase k waits for phase k-1; it fans out the
 *   shards and returns the phase's merged outcome;
 * - `shards`: the load itself, pulled by `grym-perf worker` processes.
 * Job ids, run ids, barrier and control keys are made here and nowhere else; so are the redacted forms of a
 * Redis URL and of Redis errors (never the password). Nothing here connects: it only names things.
 */
import { DEFAULT_PREFIX } from './defaults';
import { UsageError } from './errors';

export interface QueueLayout {
  /** BullMQ `prefix` option: the user's prefix wrapped in braces. */
  prefix: string;
  runs: string;
  phases: string;
  shards: string;
}

export function queueLayout(prefix: string = DEFAULT_PREFIX): QueueLayout {
  if (!/^[\w-]+$/.test(prefix)) throw new UsageError(`--prefix "${prefix}" is not a queue prefix`, 'use letters, digits, _ and - only');
  return { prefix: `{${prefix}}`, runs: 'runs', phases: 'phases', shards: 'shards' };
}

/** What a run id may look like: it names Redis keys and files, and users type it. */
const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The allowed form of a run id, in words, for messages. */
const RUN_ID_FORM = 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128 characters';

/** Checks a run id the user typed (`run --run-id`, `report <runId>`): a usage error naming the allowed form otherwise. */
export function parseRunId(runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new UsageError(`run id ${JSON.stringify(runId.slice(0, 140))} is not valid`, `use ${RUN_ID_FORM}, such as "nightly-42"`);
  }
  return runId;
}

// Job ids: BullMQ keeps its own keys beside job keys in the same hash space (`{grym}:runs:events`,
// `:meta`, `:id`, ...) and refuses ids with ':' or that look like integers. A run's job id is its
// run id behind a fixed `run.` prefix, so no run id can name one of BullMQ's keys; phase and shard
// ids end in `.p<n>` / `.p<n>.s<m>`, which no BullMQ key does. Re-adding an existing id is a no-op,
// so a re-submitted run id never runs twice. Every job id is made here and nowhere else.

/** The job id of a run's aggregate job in the `runs` queue. */
export function runJobId(runId: string): string {
  return `run.${runId}`;
}

/** The job id of phase `phaseIndex` of a run, in the `phases` queue. */
export function phaseJobId(runId: string, phaseIndex: number): string {
  return `${runId}.p${phaseIndex}`;
}

/** The job id of one shard of a phase, in the `shards` queue. */
export function shardJobId(runId: string, phaseIndex: number, shardIndex: number): string {
  return `${runId}.p${phaseIndex}.s${shardIndex}`;
}

/** The start barrier's keys of one phase. */
export function barrierKeys(layout: QueueLayout, runId: string, phaseIndex: number): { arrived: string; start: string } {
  const base = `${layout.prefix}:barrier:${runId}:p${phaseIndex}`;
  return { arrived: `${base}:arrived`, start: `${base}:start` };
}

/** The channel on which the start barriers of all runs under `layout` announce their phases' starts. */
export function barrierChannel(layout: QueueLayout): string {
  return `${layout.prefix}:barrier-starts`;
}

/**
 * The control keys of one sharded phase: a hash of each shard's latest abort tally (field
 * `s<index>`), read by the phase's guard, and the phase's stop (a `StopReason` as JSON, set once),
 * read by every shard.
 */
export function phaseControlKeys(layout: QueueLayout, runId: string, phaseIndex: number): { tallies: string; stop: string } {
  const base = `${layout.prefix}:control:${runId}:p${phaseIndex}`;
  return { tallies: `${base}:tallies`, stop: `${base}:stop` };
}

/** A run id from the plan name and the time: readable, sortable, no ':' and never integer-like. */
export function newRunId(planName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const suffix = Math.random().toString(36).slice(2, 6);
  // Plan names are lower-case letters, digits and dashes: within RUN_ID_PATTERN once cut to length.
  return `${planName.slice(0, 100)}-${stamp}-${suffix}`;
}

/** A Redis URL with its password replaced, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL (a typo): whatever comes before its last '@' may be a password.
    return url.replace(/^([a-z][a-z\d+.-]*:\/\/)?.*@/i, '$1***@');
  }
}

/** The password of a Redis URL, as typed and decoded (ioredis sends the decoded one). */
function passwordsOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    return raw ? [...new Set([raw, decodeURIComponent(raw)])] : [];
  } catch {
    const raw = /\/\/[^:@/]*:([^@/]*)@/.exec(url)?.[1];
    return raw ? [raw] : [];
  }
}

// `AUTH <password>`, `AUTH <user> <password>` and `HELLO 3 AUTH <user> <password>`, as text or as
// the argument list ioredis prints (`'AUTH', 'default', 'secret'`): the (up to) two words after AUTH.
const AUTH_ARGUMENTS = /\bAUTH(?:[\s'",]+[^\s'",\])]+){1,2}/g;

/**
 * `text` without the password of `url` nor any AUTH argument. Passwords shorter than four
 * characters are not searched for in free text: replacing every "a" would make messages unreadable,
 * and such a password protects nothing anyway; the URL and AUTH arguments are still redacted.
 */
export function redactRedisText(text: string, url: string): string {
  let redacted = text.replaceAll(url, redactRedisUrl(url)).replace(AUTH_ARGUMENTS, 'AUTH ***');
  for (const password of passwordsOf(url)) if (password.length >= 4) redacted = redacted.replaceAll(password, '***');
  return redacted;
}

/**
 * Redacts a Redis error in place (message, stack, and the arguments of the command it carries:
 * a failed `HELLO 3 AUTH default <password>` names the password there) and returns its first line,
 * ready for a message. Anything that is not an error gives its text, redacted.
 */
export function redactRedisError(error: unknown, url: string): string {
  if (!(error instanceof Error)) return redactRedisText(String(error), url).split('\n')[0] as string;
  const command = (error as { command?: { name?: unknown; args?: unknown } }).command;
  if (command && Array.isArray(command.args)) {
    const args = command.args as unknown[];
    const authIndex = args.findIndex((arg) => String(arg).toUpperCase() === 'AUTH');
    const from = String(command.name).toLowerCase() === 'auth' ? 0 : authIndex >= 0 ? authIndex + 1 : args.length;
    command.args = args.map((arg, index) => (index >= from ? '***' : arg));
  }
  error.message = redactRedisText(error.message, url);
  if (error.stack) error.stack = redactRedisText(error.stack, url);
  return (error.message.split('\n')[0] || error.name) as string;
}
