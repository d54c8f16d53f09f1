/**
 * A process started on a simulated host whose output is kept (the last 64 KiB) and always read,
 * so a chatty process never blocks on a full pipe, and which can be waited on for a line or its exit.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { CpuGroup, SimulatedHost } from './simulated-hosts';

const KEPT_OUTPUT_CHARS = 64 * 1024;

export interface LoggedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the first match in the output; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export function startLogged(host: SimulatedHost, command: string, args: readonly string[], cpuGroup?: CpuGroup): LoggedProcess {
  const child = host.exec(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cpuGroup ? { cpuGroup } : {}) });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-KEPT_OUTPUT_CHARS);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    child.once('error', (error) => resolve(error.message));
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (): void => {
          const match = output.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          check();
          done();
          reject(new Error(`exited (${code}) before printing ${pattern}; output:\n${output}`));
        });
        check();
      });
    },
    async stop(graceMs) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process (VmRSS), in bytes; null once it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
