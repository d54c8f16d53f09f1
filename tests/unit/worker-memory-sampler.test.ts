/**
 * The memory sampler keeps a bounded, evenly thinned series however long it runs, survives and
 * counts failed readings, never overlaps readings, and stops its timer with a last sample, waiting
 * for it no longer than its bound.
 */
import { startMemorySampler } from '../../src/worker/memory/memory-sampler';

describe('memory sampler', () => {
  test('a long series is thinned to at most 600 samples, first sample kept, times in order', async () => {
    let reads = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (reached = resolve));
    const sampler = startMemorySampler(
      () => {
        if (++reads === 1300) reached();
        return reads;
      },
      { intervalMs: 1, originEpochMs: Date.now() },
    );
    // Waits for 1300 readings (about 1.3 s at the 1 ms timer floor), bounded by jest's timeout.
    await enough;
    const samples = await sampler.stop();
    expect(samples.length).toBeLessThanOrEqual(600);
    expect(samples.length).toBeGreaterThan(300);
    expect(samples[0]!.bytes).toBe(1);
    expect(samples.at(-1)!.bytes).toBe(reads);
    for (let index = 1; index < samples.length; index++) expect(samples[index]!.tMs).toBeGreaterThanOrEqual(samples[index - 1]!.tMs);
    // Stopped: no reading after stop().
    const readsAtStop = reads;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads).toBe(readsAtStop);
  });

  test('readings that fail or have nothing to say leave gaps, not a broken sampler', async () => {
    let reads = 0;
    const flaky = startMemorySampler(
      () => {
        if (++reads === 1) throw new Error('target unreachable');
        return Promise.resolve(4096);
      },
      { intervalMs: 60_000, originEpochMs: Date.now() - 1000 },
    );
    // The first reading (at start) throws; the one stop() takes still lands, timed from the origin.
    const samples = await flaky.stop();
    expect(samples).toEqual([{ tMs: expect.any(Number), bytes: 4096 }]);
    expect(samples[0]!.tMs).toBeGreaterThanOrEqual(1000);
    expect(await startMemorySampler(() => null, { intervalMs: 60_000, originEpochMs: Date.now() }).stop()).toEqual([]);
  });

  test('failed readings are counted, with the first reason kept', async () => {
    let reads = 0;
    const sampler = startMemorySampler(
      () => {
        reads++;
        throw new Error(`source refused (reading ${reads})`);
      },
      { intervalMs: 60_000, originEpochMs: Date.now() },
    );
    expect(await sampler.stop()).toEqual([]);
    expect(sampler.failures).toEqual({ count: 2, firstError: 'source refused (reading 1)' });
  });

  test('a reading that never ends: no reading starts while one runs, and stop() returns within its bound', async () => {
    let reads = 0;
    const sampler = startMemorySampler(
      () => {
        reads++;
        return new Promise<number>(() => undefined);
      },
      { intervalMs: 5, originEpochMs: Date.now(), stopWaitMs: 200 },
    );
    // 40 intervals pass while the first reading hangs: none of them may start another.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads).toBe(1);
    const stoppingMs = Date.now();
    expect(await sampler.stop()).toEqual([]);
    // 200 ms bound; the timer may fire late on a busy machine, not seconds late.
    expect(Date.now() - stoppingMs).toBeGreaterThanOrEqual(195);
    expect(Date.now() - stoppingMs).toBeLessThan(1500);
    expect(reads).toBe(1);
    expect(sampler.failures).toEqual({ count: 1, firstError: 'a reading was still running 200 ms after the phase ended' });
  });

  test('a slow reading that ends in time is awaited, then the last one is taken', async () => {
    let reads = 0;
    const sampler = startMemorySampler(
      () => {
        reads++;
        return new Promise<number>((resolve) => setTimeout(() => resolve(reads * 1000), 50));
      },
      { intervalMs: 60_000, originEpochMs: Date.now(), stopWaitMs: 1000 },
    );
    expect((await sampler.stop()).map((sample) => sample.bytes)).toEqual([1000, 2000]);
    expect(sampler.failures.count).toBe(0);
  });
});
