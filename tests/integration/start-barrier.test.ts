/**
 * The start barrier against a real redis-server of the test's own: shards in processes of their own
 * learning the start through the barrier channel, what a waiting shard costs Redis, and the cases
 * around the common start (timeout, hand-back, late arrival, a lost announcement, a Redis that
 * goes away while shards wait).
 */
import IORedis from 'ioredis';
import { BarrierTimeoutError } from '../../src/shared/errors';
import { barrierChannel, barrierKeys, queueLayout, type QueueLayout } from '../../src/shared/queue-layout';
import { connectRedis } from '../../src/shared/redis-connection';
import { subscribeBarrierChannel, type BarrierChannel } from '../../src/worker/queue/barrier-channel';
import { RECHECK_MS, START_LEAD_MS, waitAtStartBarrier, type BarrierOptions } from '../../src/worker/queue/start-barrier';
import { spawnBarrierShards } from '../helpers/barrier-shards';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// The first case starts 8 Node processes through tsx on 2 shared cores (~1 s of CPU each).
jest.setTimeout(90_000);

let redis: TestRedis;
let admin: IORedis;
let prefixCounter = 0;
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new IORedis(redis.url);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
});

afterAll(async () => {
  admin.disconnect();
  await redis.destroy();
});

function uniqueLayout(): QueueLayout {
  return queueLayout(`b${process.pid}x${prefixCounter++}`);
}

/** A worker's two barrier connections, as `startShardWorker` makes them. */
async function barrierWorker(url: string, layout: QueueLayout): Promise<{ redis: IORedis; channel: BarrierChannel }> {
  const phaseRedis = connectRedis(url, 'barrier-test-phase');
  const channel = subscribeBarrierChannel(connectRedis(url, 'barrier-test-barrier'), layout);
  closers.push(
    () => channel.close(),
    () => phaseRedis.disconnect(),
  );
  await channel.ready;
  return { redis: phaseRedis, channel };
}

function options(layout: QueueLayout, overrides: Partial<BarrierOptions> = {}): BarrierOptions {
  return { layout, runId: 'r1', phaseIndex: 0, phaseName: 'steady', shardIndex: 0, shardCount: 2, timeoutMs: 30_000, ...overrides };
}

async function arrivedSoon(layout: QueueLayout, count: number): Promise<void> {
  const key = barrierKeys(layout, 'r1', 0).arrived;
  while ((await admin.scard(key)) < count) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Commands Redis ran, by name, less the INFO calls that read them. */
async function commandCounts(): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map(([, name, calls]) => [name!, Number(calls)]));
}

function commandsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, calls] of after)
    if (name !== 'info' && calls > (before.get(name) ?? 0)) delta.set(name, calls - (before.get(name) ?? 0));
  return delta;
}

const sum = (counts: Map<string, number>) => [...counts.values()].reduce((total, calls) => total + calls, 0);

test('16 shards over 8 processes all learn the start from its announcement, within the lead', async () => {
  const layout = uniqueLayout();
  const SHARDS = 16;
  const PROCESSES = 8;
  // Shards 0-14 in 8 processes (two each, one in the last), as 8 workers of concurrency 2 hold them; shard 15 arrives last, here.
  const children = Array.from({ length: PROCESSES }, (_, index) =>
    spawnBarrierShards({
      url: redis.url,
      prefix: layout.prefix.slice(1, -1),
      runId: 'r1',
      shardCount: SHARDS,
      shardIndexes: [2 * index, 2 * index + 1].filter((shard) => shard < SHARDS - 1),
    }),
  );
  closers.push(() => children.forEach((child) => child.kill('SIGKILL')));
  await Promise.all(children.map((child) => child.waitFor(/subscribed/)));
  await arrivedSoon(layout, SHARDS - 1);
  // Let every waiting shard's first read come back, so that each learns the start from the announcement.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const last = await barrierWorker(redis.url, layout);
  const { startAtMs, clockOffsetMs } = await waitAtStartBarrier(
    last.redis,
    last.channel,
    options(layout, { shardIndex: SHARDS - 1, shardCount: SHARDS }),
  );
  const startRunClockMs = startAtMs + clockOffsetMs;
  const learned = (await Promise.all(children.map((child) => child.learned))).flat();
  expect(learned.map((shard) => shard.shardIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: SHARDS - 1 }, (_, i) => i));
  expect(learned.every((shard) => shard.startRunClockMs === startRunClockMs)).toBe(true);

  // How long after the start was set each shard knew it (the start was set START_LEAD_MS before itself).
  const setRunClockMs = startRunClockMs - START_LEAD_MS;
  const delaysMs = learned.map((shard) => shard.learnedRunClockMs - setRunClockMs).sort((a, b) => a - b);
  const slowestPingMs = Math.max(...learned.map((shard) => shard.pingMs));
  console.log(
    `${SHARDS - 1} waiting shards in ${PROCESSES} processes learned the start ${delaysMs.join(', ')} ms after it was set ` +
      `(lead ${START_LEAD_MS} ms); the slowest PING right after: ${slowestPingMs.toFixed(1)} ms`,
  );
  // The bound is the lead (what the barrier promises), unless this machine is slower just now: an
  // announcement is one delivery to each process, where a PING is a delivery each way from the same
  // woken processes, so the PINGs right after say what the machine allows; a busy CI machine slows
  // both, and 4 of them cover it. Either way far below RECHECK_MS, what a shard that heard nothing waits.
  const boundMs = Math.max(START_LEAD_MS, 4 * slowestPingMs);
  expect(boundMs).toBeLessThan(RECHECK_MS / 2);
  expect(Math.max(...delaysMs)).toBeLessThan(boundMs);
});

test('a waiting shard sends a handful of commands in 2 s, and leaves the barrier when handed back', async () => {
  const layout = uniqueLayout();
  const shard = await barrierWorker(redis.url, layout);
  const before = await commandCounts();
  const controller = new AbortController();
  const waiting = waitAtStartBarrier(shard.redis, shard.channel, options(layout, { signal: controller.signal }));
  waiting.catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const during = commandsBetween(before, await commandCounts());
  console.log(`a shard waiting 2 s sent ${sum(during)} commands: ${JSON.stringify(Object.fromEntries(during))}`);
  // Arriving: 5 TIME (the clock offset), SADD, EXPIRE, GET, SCARD; then a GET and SCARD per re-read,
  // one a second: 13 in 2 s, and room for one more re-read. Polling every 20 ms sent ~190.
  expect(sum(during)).toBeLessThanOrEqual(15);

  controller.abort('the worker is stopping');
  await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  expect(await admin.smembers(barrierKeys(layout, 'r1', 0).arrived)).toEqual([]);
});

test('the last arrival sets the start ahead on the run clock; the keys expire; a retry arriving later starts at once on the same start', async () => {
  const layout = uniqueLayout();
  const [first, second] = [await barrierWorker(redis.url, layout), await barrierWorker(redis.url, layout)];
  const keys = barrierKeys(layout, 'r1', 0);
  const waiting = waitAtStartBarrier(first.redis, first.channel, options(layout, { shardIndex: 0 }));
  await arrivedSoon(layout, 1);
  const [seconds] = await admin.time();
  const lastStart = await waitAtStartBarrier(second.redis, second.channel, options(layout, { shardIndex: 1 }));
  const firstStart = await waiting;
  const startRunClockMs = Number(await admin.get(keys.start));
  expect(firstStart.startAtMs + firstStart.clockOffsetMs).toBe(startRunClockMs);
  expect(lastStart.startAtMs + lastStart.clockOffsetMs).toBe(startRunClockMs);
  expect(startRunClockMs).toBeGreaterThanOrEqual(Number(seconds) * 1000);
  for (const key of [keys.start, keys.arrived]) expect(await admin.ttl(key)).toBeGreaterThan(23 * 3600);

  // A retry of shard 0 after its worker died, once the phase has started: it starts at once, on the phase's start.
  await new Promise((resolve) => setTimeout(resolve, START_LEAD_MS + 50));
  const retry = await barrierWorker(redis.url, layout);
  const retried = await waitAtStartBarrier(retry.redis, retry.channel, options(layout, { shardIndex: 0 }));
  expect(retried.startAtMs + retried.clockOffsetMs).toBe(startRunClockMs);
  expect(retried.startAtMs).toBeLessThan(Date.now());
});

test('a lone shard starts at once, without the arrived set', async () => {
  const layout = uniqueLayout();
  const shard = await barrierWorker(redis.url, layout);
  const before = Date.now();
  const { startAtMs } = await waitAtStartBarrier(shard.redis, shard.channel, options(layout, { shardCount: 1 }));
  expect(startAtMs - before).toBeLessThan(START_LEAD_MS);
  expect(await admin.exists(barrierKeys(layout, 'r1', 0).arrived)).toBe(0);
});

test('too few shards: BarrierTimeoutError at the timeout, and the shard leaves the arrived set', async () => {
  const layout = uniqueLayout();
  const shard = await barrierWorker(redis.url, layout);
  const began = Date.now();
  const error = await waitAtStartBarrier(shard.redis, shard.channel, options(layout, { shardCount: 3, timeoutMs: 1500 })).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BarrierTimeoutError);
  expect(error).toMatchObject({ code: 'GRYM_ERR_BARRIER_TIMEOUT', details: { arrived: 1, shardCount: 3 } });
  expect(Date.now() - began).toBeGreaterThanOrEqual(1500);
  expect(Date.now() - began).toBeLessThan(1500 + 1000);
  expect(await admin.smembers(barrierKeys(layout, 'r1', 0).arrived)).toEqual([]);
});

test('an announcement missed while the channel reconnected: the shard reads the start once subscribed again', async () => {
  const layout = uniqueLayout();
  const shard = await barrierWorker(redis.url, layout);
  const keys = barrierKeys(layout, 'r1', 0);
  const waiting = waitAtStartBarrier(shard.redis, shard.channel, options(layout));
  await arrivedSoon(layout, 1);
  // The channel's connection dropped; the start is set meanwhile, and its announcement sent to nobody.
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  const [seconds] = await admin.time();
  await admin.set(keys.start, String(Number(seconds) * 1000), 'EX', 60);
  await admin.publish(barrierChannel(layout), `${keys.start} ${Number(seconds) * 1000}`);
  const setAtMs = Date.now();
  const start = await waiting;
  expect(start.startAtMs + start.clockOffsetMs).toBe(Number(seconds) * 1000);
  // Well before the re-read every RECHECK_MS: the read after subscribing again found it (ioredis reconnects after ~100 ms).
  expect(Date.now() - setAtMs).toBeLessThan(RECHECK_MS / 2);
});

test('a start set without an announcement is found by the re-read', async () => {
  const layout = uniqueLayout();
  const shard = await barrierWorker(redis.url, layout);
  const keys = barrierKeys(layout, 'r1', 0);
  const waiting = waitAtStartBarrier(shard.redis, shard.channel, options(layout));
  await arrivedSoon(layout, 1);
  // As if the shard that set the start died before announcing it.
  await admin.set(keys.start, '12345', 'EX', 60);
  const setAtMs = Date.now();
  const start = await waiting;
  expect(start.startAtMs + start.clockOffsetMs).toBe(12345);
  expect(Date.now() - setAtMs).toBeLessThan(RECHECK_MS + 500);
});

test('Redis gone while shards wait: the wait still ends at the timeout with BarrierTimeoutError', async () => {
  const own = await startTestRedis();
  closers.push(() => own.destroy());
  const layout = uniqueLayout();
  const shard = await barrierWorker(own.url, layout);
  const began = Date.now();
  const waiting = waitAtStartBarrier(shard.redis, shard.channel, options(layout, { timeoutMs: 2000 })).catch((e: unknown) => e);
  const probe = new IORedis(own.url);
  closers.push(() => probe.disconnect());
  while ((await probe.scard(barrierKeys(layout, 'r1', 0).arrived)) < 1) await new Promise((resolve) => setTimeout(resolve, 10));
  probe.disconnect();
  await own.stop(true);
  let timer: NodeJS.Timeout | undefined;
  const error = await Promise.race([waiting, new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 5000)))]);
  clearTimeout(timer);
  expect(error).toBeInstanceOf(BarrierTimeoutError);
  expect(error).toMatchObject({ details: { arrived: 1, shardCount: 2 } });
  // At the timeout: leaving does not wait for a Redis the connection knows is gone (500 ms for a busy machine).
  expect(Date.now() - began).toBeLessThan(2000 + 500);
});
