/** The request log's sample: bounded, uniform over the whole phase (not its start), weights that add up. */
import type { RequestLogEntry } from '../../src/shared/shard-result';
import { RequestSampler } from '../../src/worker/request-sampler';

const entry = (index: number): RequestLogEntry => ({
  startMs: index,
  ttftMs: null,
  e2eMs: 1,
  outputTokens: 1,
  inputTokens: 1,
  errorClass: null,
  model: 'm',
  conversation: 'c',
  shard: 0,
  weight: 1,
});

test('under the capacity every request is kept once, standing for itself', () => {
  const sampler = new RequestSampler(10, 1);
  for (let index = 0; index < 7; index++) sampler.offer(() => entry(index));
  expect(sampler.finish().map((kept) => [kept.startMs, kept.weight])).toEqual([0, 1, 2, 3, 4, 5, 6].map((index) => [index, 1]));
});

test('over it the sample stays at the capacity, spread over the whole phase, and its weights add up to every request', () => {
  const seen = 100_000;
  const sampler = new RequestSampler(1000, 7);
  for (let index = 0; index < seen; index++) sampler.offer(() => entry(index));
  const kept = sampler.finish();
  expect(kept).toHaveLength(1000);
  expect(kept.reduce((total, request) => total + request.weight, 0)).toBeCloseTo(seen, 6);
  // Uniform: each tenth of the phase holds about a tenth of the sample. With 1000 draws a tenth's
  // count has a standard deviation of about 9.5, so 100 +- 40 fails only for a skewed sampler.
  const perTenth = Array.from(
    { length: 10 },
    (_, tenth) => kept.filter((request) => Math.floor(request.startMs / (seen / 10)) === tenth).length,
  );
  for (const count of perTenth) expect(Math.abs(count - 100)).toBeLessThan(40);
});

test('a capacity of 0 keeps nothing and builds no entry', () => {
  const sampler = new RequestSampler(0, 1);
  const build = jest.fn(() => entry(0));
  sampler.offer(build);
  expect(sampler.finish()).toEqual([]);
  expect(build).not.toHaveBeenCalled();
});
