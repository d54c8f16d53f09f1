/**
 * Section 10 of `npm run bench`, run by `generator-cost.ts` in a process of its own (pinned to core
 * 0): RSS per in-flight stream at 2,000 streams held open in one worker process. A fresh process,
 * because RSS seldom shrinks: after the other sections, the same measurement read 32 KiB per stream
 * where a fresh process read 21-26.
 */
import { createLocalExecutor } from '../src/worker';
import { grymRun, startLean, type LeanServer } from './generator-cost';

/** The median of `values` (not empty). */
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * RSS while `concurrency` streams are held open: its peak, and its median over the hold (2 s to
 * 4.5 s after the start, every stream open, none timed out yet): the peak also holds garbage not
 * yet collected, whose amount depends on when the collector last ran, not on the streams.
 */
async function rssHolding(server: LeanServer, concurrency: number): Promise<{ peak: number; held: number; plateau: number }> {
  const executor = createLocalExecutor({ threads: 1 });
  const startedMs = Date.now();
  let peak = 0;
  const holding: number[] = [];
  const sampler = setInterval(() => {
    const { rss } = process.memoryUsage();
    peak = Math.max(peak, rss);
    const sinceStartMs = Date.now() - startedMs;
    if (sinceStartMs >= 2000 && sinceStartMs <= 4500) holding.push(rss);
  }, 100);
  try {
    // No warm-up: every stream is measured, so the peak in flight is the streams held.
    const run = await grymRun(executor, server, { stream: true, concurrency, maxTokens: 1, requestTimeout: '5500ms', warmup: '0s' });
    return { peak, held: run.metrics.concurrency.peak, plateau: median(holding) };
  } finally {
    clearInterval(sampler);
    await executor.close();
  }
}

async function memoryPerStream(): Promise<void> {
  // Streams held open: the role chunk comes at once, the first token after 30 s (never, here).
  const server = await startLean('sse', 30_000, 1, 0);
  try {
    const low = await rssHolding(server, 20);
    const high = await rssHolding(server, 2020);
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const perStream = (key: 'peak' | 'plateau') => `${((high[key] - low[key]) / (high.held - low.held) / 1024).toFixed(1)} KiB`;
    console.log('\n## 10. Memory per in-flight stream, one worker process (streams held open by a server that never sends a token)');
    console.log(
      `process RSS over the hold (median) ${mib(low.plateau)} at ${low.held} streams, ${mib(high.plateau)} at ${high.held} -> ` +
        `${perStream('plateau')} per stream; at the peak ${mib(low.peak)} and ${mib(high.peak)} -> ${perStream('peak')} (goal <= 30 KiB)`,
    );
  } finally {
    server.child.kill();
  }
}

void memoryPerStream().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
