/**
 * The progress reporter on a terminal: the bar hides the cursor and turns line wrap off while it
 * runs, and stop() gives both back, as an interrupted run needs (Ctrl-C used to leave the terminal
 * without a cursor). A fake TTY stream records what cli-progress writes.
 */
import { createProgressReporter } from '../../src/coordinator/progress-reporter';
import type { RunProgress } from '../../src/coordinator/distributed/watch-run';
import type { LiveCriteria } from '../../src/coordinator/metrics/live-criteria';

const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';
const WRAP_ON = '\x1b[?7h';
const WRAP_OFF = '\x1b[?7l';

function fakeTerminal() {
  let written = '';
  const stream = {
    isTTY: true,
    columns: 100,
    write(chunk: string | Uint8Array, ...rest: unknown[]) {
      written += chunk.toString();
      const callback = rest.find((argument): argument is () => void => typeof argument === 'function');
      callback?.();
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, written: () => written };
}

describe('progress reporter', () => {
  test('stop() while a phase bar is shown restores the cursor and line wrap', () => {
    const terminal = fakeTerminal();
    const lines: string[] = [];
    const progress = createProgressReporter({ tty: true, barStream: terminal.stream, write: (line) => lines.push(line) });
    progress.onEvent({ type: 'phase-start', phaseIndex: 0, name: 'baseline', scenario: 'requests', shards: 1, plannedMs: 30_000 });
    progress.onEvent({
      type: 'progress',
      phaseIndex: 0,
      completed: 12,
      errors: 0,
      fraction: 0.4,
      window: null,
      criteria: null,
      stopped: null,
    });
    expect(terminal.written()).toContain(HIDE_CURSOR);
    expect(terminal.written()).toContain(WRAP_OFF);
    expect(terminal.written()).not.toContain(SHOW_CURSOR);

    progress.stop();
    const afterStop = terminal.written();
    expect(afterStop.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(afterStop.lastIndexOf(HIDE_CURSOR));
    expect(afterStop.lastIndexOf(WRAP_ON)).toBeGreaterThan(afterStop.lastIndexOf(WRAP_OFF));
    // Idempotent: the run's own end calls it again.
    progress.stop();
    expect(terminal.written()).toBe(afterStop);
    expect(lines).toEqual(['phase baseline (requests) started']);
  });

  test('without a terminal no escape sequence is written, and stop() is harmless', () => {
    const terminal = fakeTerminal();
    const lines: string[] = [];
    const progress = createProgressReporter({ tty: false, barStream: terminal.stream, write: (line) => lines.push(line) });
    progress.onEvent({ type: 'phase-start', phaseIndex: 0, name: 'baseline', scenario: 'requests', shards: 1, plannedMs: 30_000 });
    progress.onEvent({
      type: 'progress',
      phaseIndex: 0,
      completed: 12,
      errors: 1,
      fraction: 0.4,
      window: null,
      criteria: null,
      stopped: null,
    });
    progress.stop();
    expect(terminal.written()).toBe('');
    expect(lines).toEqual([
      'phase baseline (requests) started',
      '  baseline: 40% | 0 s of 30 s, ~30 s left | first window not closed yet | 12 ok, 1 errors',
    ]);
  });

  const criteria: LiveCriteria = {
    measuredMs: 12_000,
    criteria: [
      { metric: 'latency.e2e.p50', text: '< 300ms', state: 'holding', verdict: '120.0 ms < 300.0 ms' },
      { metric: 'latency.e2e.p95', text: '< 500ms', state: 'broken', verdict: '612.0 ms is not < 500.0 ms (over by 112.0 ms)' },
      { metric: 'requests.errorRate', text: '< 1%', state: 'holding', verdict: '0.00 % < 1.00 %' },
      { metric: 'memory.target.peak', text: '< 14GB', state: 'at-end', verdict: null },
      { metric: 'latency.ttft.p50', text: '< 300ms', state: 'waiting', verdict: null },
    ],
  };
  const CRITERIA_TEXT =
    'criteria so far: 2 holding, 1 without data yet, 1 at the end, 1 broken: latency.e2e.p95 612.0 ms is not < 500.0 ms (over by 112.0 ms)';

  test('a local phase shows its criteria so far, and says at once (on its own line) that it is stopping and why', () => {
    const lines: string[] = [];
    const progress = createProgressReporter({ tty: false, write: (line) => lines.push(line) });
    progress.onEvent({ type: 'phase-start', phaseIndex: 0, name: 'baseline', scenario: 'requests', shards: 2, plannedMs: 30_000 });
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 12, errors: 0, fraction: 0.4, window: null, criteria, stopped: null });
    const stopped = { reason: '5 consecutive failed requests (http_500: boom), all 2 shards together', atMs: Date.now() };
    // Within the line interval: the progress line waits, the stop does not.
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 12, errors: 5, fraction: 0.41, window: null, criteria, stopped });
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 12, errors: 5, fraction: 0.41, window: null, criteria, stopped });
    expect(lines).toEqual([
      'phase baseline (requests, 2 shards) started',
      `  baseline: 40% | 0 s of 30 s, ~30 s left | first window not closed yet | 12 ok, 0 errors | ${CRITERIA_TEXT}`,
      `  baseline: stopping: ${stopped.reason}`,
    ]);
  });

  test('on a terminal the bar carries the stop first, then the criteria so far', () => {
    const terminal = fakeTerminal();
    const progress = createProgressReporter({
      tty: true,
      barStream: { ...terminal.stream, columns: 400 } as NodeJS.WritableStream,
      write: () => undefined,
    });
    progress.onEvent({ type: 'phase-start', phaseIndex: 0, name: 'baseline', scenario: 'requests', shards: 1, plannedMs: 30_000 });
    const stopped = { reason: 'stopped at its time limit (30 s)', atMs: Date.now() };
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 3, errors: 0, fraction: 1, window: null, criteria, stopped });
    progress.stop();
    expect(terminal.written()).toContain('stopping: stopped at its time limit (30 s) | ');
    expect(terminal.written()).toContain('criteria so far: 2 holding');
  });

  test('a distributed phase says which shard stopped it as soon as a shard has said so, once, and shows its criteria so far', () => {
    const lines: string[] = [];
    const progress = createProgressReporter({ tty: false, write: (line) => lines.push(line) });
    const shard = { state: 'active', completed: 10, errors: 5, fraction: 0.3, attempts: 1 };
    const stopped = { reason: '5 consecutive failed requests (http_500: boom), on shard 2 of 2 (worker-b)', atMs: 1000 };
    const poll = (stop: boolean): RunProgress => ({
      state: 'active',
      phases: [{ phaseIndex: 0, name: 'baseline', state: 'active', shards: [shard, stop ? { ...shard, stopped } : shard], criteria }],
    });
    progress.onRunProgress(poll(false));
    progress.onRunProgress(poll(true));
    progress.onRunProgress(poll(true));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^ {2}baseline: shards active, active; 20 ok, 10 errors \| 0 s \| first window not closed yet \| criteria so far: /,
    );
    expect(lines[0]).toContain(CRITERIA_TEXT);
    expect(lines[1]).toBe(`  baseline: stopping: ${stopped.reason}`);
  });
});
