/**
 * Whether a command line is a local `run` (no Redis), read before the CLI itself loads so that the
 * run's worker threads can start at once (`prestartWorkerPool`); and the threads it asks for.
 * Anything unclear (help, a malformed --threads) is left to the CLI: null, nothing started.
 */
export function localRunThreads(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { threads?: number } | null {
  if (argv[0] !== 'run' || env.GRYM_REDIS_URL) return null;
  let threads: number | undefined;
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--help' || arg === '-h' || arg === '--redis' || arg.startsWith('--redis=')) return null;
    const value = arg === '--threads' ? argv[++index] : arg.startsWith('--threads=') ? arg.slice('--threads='.length) : undefined;
    if (value === undefined) continue;
    if (!/^[1-9]\d*$/.test(value)) return null;
    threads = Number(value);
  }
  return threads === undefined ? {} : { threads };
}
