/**
 * Cleanup for the scale-out bench scripts: steps run once, last-registered first, whether `main`
 * returns, throws, or the process gets SIGINT / SIGTERM / SIGHUP or an unhandled rejection.
 */

type Step = { label: string; fn: () => Promise<unknown> };

/** LIFO list of cleanup steps; `run()` is idempotent and runs every step even when one fails. */
export interface CleanupStack {
  defer(label: string, fn: () => Promise<unknown>): void;
  /** Runs the steps (once); resolves to one line per failed step. */
  run(): Promise<string[]>;
}

function createCleanupStack(): CleanupStack {
  const steps: Step[] = [];
  let running: Promise<string[]> | undefined;
  return {
    defer(label, fn) {
      steps.push({ label, fn });
    },
    run() {
      running ??= (async () => {
        const failures: string[] = [];
        for (const step of steps.reverse()) {
          try {
            await step.fn();
          } catch (error) {
            failures.push(`${step.label}: ${(error as Error).message}`);
          }
        }
        return failures;
      })();
      return running;
    },
  };
}

const FORCE_AFTER_MS = 1000;
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * Runs `main` with a cleanup stack, then the stack, and exits with `main`'s code (1 if it threw,
 * or if cleanup failed). A signal runs the stack and exits 128+signo; the same signal again, a
 * second or more later, exits at once.
 */
export function runMain(main: (cleanup: CleanupStack) => Promise<number>): void {
  const cleanup = createCleanupStack();
  let exiting = false;
  let firstSignalAt = 0;
  const abort = (why: string, exitCode: number): void => {
    // tsx and a terminal's Ctrl-C both deliver the same SIGINT: only a repeat a second later
    // means "stop waiting".
    if (exiting) {
      if (Date.now() - firstSignalAt < FORCE_AFTER_MS) return;
      console.error(`${why} again: exiting without waiting for cleanup`);
      process.exit(exitCode);
    }
    exiting = true;
    firstSignalAt = Date.now();
    console.error(`${why}: cleaning up`);
    void cleanup.run().then((failures) => {
      for (const failure of failures) console.error(`cleanup failed: ${failure}`);
      process.exit(exitCode);
    });
  };
  for (const [signal, exitCode] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.on(signal as NodeJS.Signals, () => abort(signal, exitCode));
  }
  process.on('unhandledRejection', (reason) => {
    console.error('unhandled rejection:', reason);
    abort('unhandled rejection', 1);
  });

  void (async () => {
    let exitCode: number;
    try {
      exitCode = await main(cleanup);
    } catch (error) {
      // After a signal, main fails because its children were killed: not worth a stack trace.
      if (exiting) return;
      console.error(error);
      exitCode = 1;
    }
    if (exiting) return;
    exiting = true;
    const failures = await cleanup.run();
    for (const failure of failures) console.error(`cleanup failed: ${failure}`);
    process.exit(failures.length > 0 && exitCode === 0 ? 1 : exitCode);
  })();
}
