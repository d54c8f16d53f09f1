/**
 * Shows a run's progress: a bar per phase on a terminal, plain lines otherwise (CI logs), at most
 * one line every two seconds per phase plus a line at each phase's start and end. Both say the
 * same: how far the phase is (elapsed, remaining), the latest window's throughput and latency
 * (merged across shards), the errors so far and the phase's criteria judged so far; and, as soon
 * as it is known, that the phase is stopping early and why (at once, on a line of its own).
 */
import type { SingleBar } from 'cli-progress';
import type { RunProgress } from './distributed/watch-run';
import { describeLiveCriteria, type LiveCriteria } from './metrics/live-criteria';
import { liveWindowOf, type LiveWindow } from './metrics/live-window';
import type { RunEvent } from './run-events';
import { firstStop, type StopReason } from '../shared/shard-result';
import { formatValue } from '../shared/units';

export interface ProgressReporter {
  onEvent(event: RunEvent): void;
  /** Progress of a distributed run, as polled from Redis. */
  onRunProgress(progress: RunProgress): void;
  /** Stops the bar, if one is shown, and gives the terminal back as it was: cursor shown, line wrap on. */
  stop(): void;
}

const LINE_INTERVAL_MS = 2000;
const DONE_PHASE = new Set(['completed', 'failed']);
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** "12 s of 30 s, ~18 s left" from the phase's plan, or from how far along it is. */
function timeText(elapsedMs: number, plannedMs: number | null, fraction: number): string {
  if (plannedMs !== null) return `${seconds(elapsedMs)} of ${seconds(plannedMs)}, ~${seconds(Math.max(0, plannedMs - elapsedMs))} left`;
  if (fraction <= 0) return `${seconds(elapsedMs)}`;
  return `${seconds(elapsedMs)}, ~${seconds(Math.max(0, (elapsedMs * (1 - fraction)) / fraction))} left`;
}

/** "96.2 req/s, e2e p50 34.7 ms p95 36.9 ms" of the latest window all shards closed. */
function windowText(window: LiveWindow | null): string {
  if (!window) return 'first window not closed yet';
  const latency = window.e2e ? `, e2e p50 ${formatValue('duration', window.e2e.p50)} p95 ${formatValue('duration', window.e2e.p95)}` : '';
  return `${window.requestsPerSecond.toFixed(1)} req/s${latency}`;
}

/** " | criteria so far: 2 holding, 1 at the end, 1 broken: ..." (`describeLiveCriteria`): provisional, on every shard's latest totals. */
function criteriaText(live: LiveCriteria | null | undefined): string {
  return live ? ` | criteria so far: ${describeLiveCriteria(live)}` : '';
}

const stopText = (stop: StopReason) => `stopping: ${stop.reason}`;

/** Lines for a distributed run, as polled from Redis: one per phase when its shards change state, or every 2 s while they run. */
function distributedProgress(write: (line: string) => void): (progress: RunProgress) => void {
  const lastStates = new Map<string, string>();
  const firstSeenActive = new Map<string, number>();
  const stopsTold = new Set<string>();
  let lastLineMs = 0;
  return (progress) => {
    for (const phase of progress.phases) {
      const stop = firstStop(phase.shards);
      // Told once, as soon as a shard has said it; the phase's end line follows when its shards are done.
      if (stop && !DONE_PHASE.has(phase.state) && !stopsTold.has(phase.name)) {
        stopsTold.add(phase.name);
        write(`  ${phase.name}: ${stopText(stop)}`);
      }
      const completed = phase.shards.reduce((sum, shard) => sum + shard.completed, 0);
      const errors = phase.shards.reduce((sum, shard) => sum + shard.errors, 0);
      const retries = phase.shards.reduce((sum, shard) => sum + Math.max(0, shard.attempts - 1), 0);
      const state = `${phase.state} ${phase.shards.map((shard) => shard.state).join('/')}`;
      const changed = lastStates.get(phase.name) !== state;
      const active = phase.shards.some((shard) => shard.state === 'active');
      if (active && !firstSeenActive.has(phase.name)) firstSeenActive.set(phase.name, Date.now());
      if (!changed && !(active && Date.now() - lastLineMs >= LINE_INTERVAL_MS)) continue;
      lastStates.set(phase.name, state);
      lastLineMs = Date.now();
      const live = active
        ? ` | ${seconds(Date.now() - (firstSeenActive.get(phase.name) ?? Date.now()))} | ${windowText(liveWindowOf(phase.shards))}` +
          criteriaText(phase.criteria)
        : '';
      write(
        `  ${phase.name}: shards ${phase.shards.map((shard) => shard.state).join(', ')}; ` +
          `${completed} ok, ${errors} errors${retries > 0 ? `, ${retries} retried` : ''}${live}`,
      );
    }
  };
}

export interface ProgressReporterOptions {
  quiet?: boolean;
  /** Show a bar (default: when stdout is a terminal). */
  tty?: boolean;
  /** Where plain lines go (default: stdout). */
  write?: (line: string) => void;
  /** Where the bar is drawn (default: stderr, as cli-progress does). */
  barStream?: NodeJS.WritableStream;
}

/** A phase's bar. It hides the cursor and turns line wrap off until stopped: every way out of a run must stop it. */
function startBar(phase: string, stream: NodeJS.WritableStream | undefined): SingleBar {
  // Loaded with the first bar, not at launch: runs without a terminal (CI, scripts) never draw one.
  const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar(
    { format: `  ${phase} [{bar}] {percentage}% | {details}`, hideCursor: true, clearOnComplete: true, ...(stream ? { stream } : {}) },
    undefined,
  );
  bar.start(100, 0, { details: 'starting' });
  return bar;
}

export function createProgressReporter(options: ProgressReporterOptions = {}): ProgressReporter {
  const write = options.write ?? ((line: string) => console.log(line));
  const tty = options.tty ?? process.stdout.isTTY === true;
  let bar: SingleBar | undefined;
  let lastLineMs = 0;
  let phase = { name: '', startedMs: 0, plannedMs: null as number | null, stopTold: false };

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };

  const onProgress = (event: Extract<RunEvent, { type: 'progress' }>) => {
    const time = timeText(Date.now() - phase.startedMs, phase.plannedMs, event.fraction);
    const counts = `${event.completed} ok, ${event.errors} errors`;
    const details = `${time} | ${windowText(event.window)} | ${counts}${criteriaText(event.criteria)}`;
    if (bar) {
      bar.update(Math.round(event.fraction * 100), { details: event.stopped ? `${stopText(event.stopped)} | ${details}` : details });
      return;
    }
    if (event.stopped && !phase.stopTold) {
      // At once, whatever the line interval: the run's log says when the phase started stopping.
      phase.stopTold = true;
      write(`  ${phase.name}: ${stopText(event.stopped)}`);
    }
    const now = Date.now();
    if (now - lastLineMs < LINE_INTERVAL_MS) return;
    lastLineMs = now;
    write(`  ${phase.name}: ${Math.round(event.fraction * 100)}% | ${details}`);
  };

  const onEvent = (event: RunEvent) => {
    if (options.quiet) return;
    switch (event.type) {
      case 'run-start':
        write(`run ${event.runId}: ${event.phases} phase${event.phases === 1 ? '' : 's'}`);
        break;
      case 'phase-start':
        phase = { name: event.name, startedMs: Date.now(), plannedMs: event.plannedMs, stopTold: false };
        write(`phase ${event.name} (${event.scenario}${event.shards > 1 ? `, ${event.shards} shards` : ''}) started`);
        if (tty) bar = startBar(event.name, options.barStream);
        break;
      case 'progress':
        onProgress(event);
        break;
      case 'phase-end':
        stopBar();
        write(
          `phase ${event.name}: ${event.passed ? 'PASS' : 'FAIL'} in ${formatValue('duration', event.durationMs)}, ` +
            `${event.completed} ok, ${event.errors} errors` +
            (event.error ? ` (${event.error})` : ''),
        );
        break;
    }
  };

  const runProgress = distributedProgress(write);
  const onRunProgress = (progress: RunProgress) => {
    if (!options.quiet) runProgress(progress);
  };

  return { onEvent, onRunProgress, stop: stopBar };
}
