/**
 * The progress reporter on a terminal: the bar hides the cursor and turns line wrap off while it
 * runs, and stop() gives both back, as an interrupted run needs (Ctrl-C used to leave the terminal
 * without a cursor). A fake TTY stream records what cli-progress writes.
 */
import { createProgressReporter } from '../../src/coordinator/progress-reporter';

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
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 12, errors: 0, fraction: 0.4, window: null });
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
    progress.onEvent({ type: 'progress', phaseIndex: 0, completed: 12, errors: 1, fraction: 0.4, window: null });
    progress.stop();
    expect(terminal.written()).toBe('');
    expect(lines).toEqual([
      'phase baseline (requests) started',
      '  baseline: 40% | 0 s of 30 s, ~30 s left | first window not closed yet | 12 ok, 1 errors',
    ]);
  });
});
