/**
 * Shards waiting at a start barrier in processes of their own, as worker processes hold them: each
 * process has a phase connection and one subscription to the barrier channel, shared by its shards.
 * Run as a script (through tsx), it waits with the shards given and prints one JSON line per shard
 * when the shard learns the start: when it learned it and when the start is, both on the run's
 * clock, and a Redis round trip measured right after (how responsive the machine was just then).
 */
import { spawn } from 'node:child_process';
import { connectRedis } from '../../src/shared/redis-connection';
import { queueLayout } from '../../src/shared/queue-layout';
import { subscribeBarrierChannel } from '../../src/worker/queue/barrier-channel';
import { waitAtStartBarrier } from '../../src/worker/queue/start-barrier';
import type { CliProcess } from './cli-process';

export interface LearnedStart {
  shardIndex: number;
  /** When the shard's wait resolved, epoch ms on the run's clock. */
  learnedRunClockMs: number;
  /** The start it learned, epoch ms on the run's clock. */
  startRunClockMs: number;
  /** A PING's round trip from this process right after it learned the start. */
  pingMs: number;
}

interface Args {
  url: string;
  prefix: string;
  runId: string;
  shardCount: number;
  shardIndexes: number[];
}

/** A process holding `shardIndexes` at the barrier of phase 0 of `runId`; it prints "subscribed" once its channel is. */
export function spawnBarrierShards(args: Args): CliProcess & { learned: Promise<LearnedStart[]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const learned = exited.then((code) => {
    if (code !== 0) throw new Error(`barrier shards ${args.shardIndexes.join(',')} exited ${code}:\n${output}`);
    return output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LearnedStart);
  });
  learned.catch(() => undefined);
  return {
    child,
    output: () => output,
    exited,
    learned,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        const check = () => {
          const match = output.match(pattern);
          if (!match) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve(match);
        };
        child.stdout.on('data', check);
        check();
      }),
  };
}

async function main(args: Args): Promise<void> {
  const layout = queueLayout(args.prefix);
  const redis = connectRedis(args.url, 'barrier-shards-phase');
  const channel = subscribeBarrierChannel(connectRedis(args.url, 'barrier-shards-barrier'), layout);
  await channel.ready;
  process.stdout.write('subscribed\n');
  const lines = await Promise.all(
    args.shardIndexes.map(async (shardIndex) => {
      const { startAtMs, clockOffsetMs } = await waitAtStartBarrier(redis, channel, {
        layout,
        runId: args.runId,
        phaseIndex: 0,
        phaseName: 'barrier',
        shardIndex,
        shardCount: args.shardCount,
        timeoutMs: 60_000,
      });
      const learnedRunClockMs = Date.now() + clockOffsetMs;
      const sentMs = performance.now();
      await redis.ping();
      const pingMs = performance.now() - sentMs;
      return JSON.stringify({ shardIndex, learnedRunClockMs, startRunClockMs: startAtMs + clockOffsetMs, pingMs } satisfies LearnedStart);
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  channel.close();
  await redis.quit();
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]!) as Args).catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
