/**
 * Worker names. BullMQ sends a worker's name to Redis in `CLIENT SETNAME`, which refuses spaces and
 * most punctuation: a worker with such a name never registers, and `run` then says no worker
 * listens. Names are therefore checked when the worker starts, and the default one is made safe.
 */
import { hostname } from 'node:os';

/** What a worker name may be: a letter or digit, then up to 63 letters, digits, dots, underscores or dashes. */
const WORKER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `name` cannot name a worker, or undefined when it can. */
export function workerNameProblem(name: string): string | undefined {
  if (WORKER_NAME_PATTERN.test(name)) return undefined;
  return (
    `"${name}" is not a valid worker name: use 1 to 64 letters, digits, dots, underscores or dashes, ` +
    'starting with a letter or digit (Redis refuses spaces in client names)'
  );
}

/** The host name and pid, with anything Redis would refuse replaced, cut to fit the pattern. */
export function defaultWorkerName(host = hostname(), pid = process.pid): string {
  const suffix = `-${pid}`;
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return `${(safeHost || 'worker').slice(0, 64 - suffix.length)}${suffix}`;
}
