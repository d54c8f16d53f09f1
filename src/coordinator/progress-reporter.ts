/**
 * Shows a run's progress: a bar per phase on a terminal, plain lines otherwise (CI logs), at most
 * one line every two seconds per phase plus a line at each phase's start and end.
 */
import { SingleBar } from 'cli-progress';
import type { RunProgress } from './distributed/watch-run';
import type { RunEvent } from './run-events';
import { formatValue } from '../shared/units';

export interface ProgressReporter {
  onEvent(event: RunEvent): void;
  /** Progress of a distributed run, as polled from Redis. */
  onRunProgress(progress: RunProgress): void;
  stop(): void;
}

const LINE_INTERVAL_MS = 2000;

export function createProgressReporter(options: { quiet?: boolean; tty?: boolean; write?: (line: string) => void } = {}): ProgressReporter {
  const write = options.write ?? ((line: string) => console.log(line));
  const tty = options.tty ?? process.stdout.isTTY === true;
  let bar: SingleBar | undefined;
  let lastLineMs = 0;
  let currentPhase = '';
  const lastStates = new Map<string, string>();

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };

  const onEvent = (event: RunEvent) => {
    if (options.quiet) return;
    switch (event.type) {
      case 'run-start':
        write(`run ${event.runId}: ${event.phases} phase${event.phases === 1 ? '' : 's'}`);
        break;
      case 'phase-start':
        currentPhase = event.name;
        write(`phase ${event.name} (${event.scenario}${event.shards > 1 ? `, ${event.shards} shards` : ''}) started`);
        if (tty) {
          bar = new SingleBar({ format: `  ${event.name} [{bar}] {percentage}% | {completed} ok, {errors} errors`, hideCursor: true, clearOnComplete: true }, undefined);
          bar.start(100, 0, { completed: 0, errors: 0 });
        }
        break;
      case 'progress': {
        if (bar) {
          bar.update(Math.round(event.fraction * 100), { completed: event.completed, errors: event.errors });
          break;
        }
        const now = Date.now();
        if (now - lastLineMs < LINE_INTERVAL_MS) break;
        lastLineMs = now;
        write(`  ${currentPhase}: ${Math.round(event.fraction * 100)}%, ${event.completed} ok, ${event.errors} errors`);
        break;
      }
      case 'phase-end':
        stopBar();
        write(`phase ${event.name}: ${event.passed ? 'PASS' : 'FAIL'} in ${formatValue('duration', event.durationMs)}${event.error ? ` (${event.error})` : ''}`);
        break;
    }
  };

  const onRunProgress = (progress: RunProgress) => {
    if (options.quiet) return;
    for (const phase of progress.phases) {
      const completed = phase.shards.reduce((sum, shard) => sum + shard.completed, 0);
      const errors = phase.shards.reduce((sum, shard) => sum + shard.errors, 0);
      const retries = phase.shards.reduce((sum, shard) => sum + Math.max(0, shard.attempts - 1), 0);
      const state = `${phase.state} ${phase.shards.map((shard) => shard.state).join('/')}`;
      const changed = lastStates.get(phase.name) !== state;
      const active = phase.shards.some((shard) => shard.state === 'active');
      if (!changed && !(active && Date.now() - lastLineMs >= LINE_INTERVAL_MS)) continue;
      lastStates.set(phase.name, state);
      lastLineMs = Date.now();
      write(`  ${phase.name}: shards ${phase.shards.map((shard) => shard.state).join(', ')}; ${completed} ok, ${errors} errors${retries > 0 ? `, ${retries} retried` : ''}`);
    }
  };

  return { onEvent, onRunProgress, stop: stopBar };
}
