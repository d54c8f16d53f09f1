/**
 * The abort conditions on a shard's shared stop state: what counts as a run of connection failures
 * or of failures, what breaks a run, the error-rate window and its minimum, the harness's own
 * abandoned requests counting for nothing, and one trip per shard.
 */
import { spokenDuration } from '../../src/shared/abort-reason';
import { AbortConditions } from '../../src/worker/scenarios/abort-conditions';
import { createShardStopState, ShardStop } from '../../src/worker/scenarios/shard-stop';
import type { RequestFailure, RequestOutcome } from '../../src/worker/targets/llm-target';
import { OK_OUTCOME } from '../helpers/request-outcomes';

const ok = OK_OUTCOME;
const refused: RequestFailure = {
  ok: false,
  startMs: 0,
  endMs: 1,
  errorClass: 'connection_refused',
  message: 'connect ECONNREFUSED 127.0.0.1:9',
  connectionFailure: true,
};
const serverError: RequestFailure = { ok: false, startMs: 0, endMs: 1, errorClass: 'http_500', message: 'boom' };
const abandoned: RequestFailure = { ok: false, startMs: 0, endMs: 1, errorClass: 'aborted', message: 'the phase was stopped' };

const conditions = (abort: Partial<ConstructorParameters<typeof AbortConditions>[1]> = {}, state = createShardStopState()) =>
  new AbortConditions(new ShardStop(state), { connectionFailures: 20, consecutiveFailures: 0, ...abort });

/** Observes each outcome in turn; the reasons returned, null where none held. */
const observeAll = (judge: AbortConditions, outcomes: RequestOutcome[]) => outcomes.map((outcome) => judge.observe(outcome));

describe('abort conditions', () => {
  test('consecutive connection failures: the 3rd in a row holds; a success or a request that reached the server breaks the run', () => {
    const judge = conditions({ connectionFailures: 3 });
    expect(observeAll(judge, [refused, refused, ok, refused, refused, serverError, refused, refused])).toEqual(Array(8).fill(null));
    expect(judge.observe(refused)).toBe('3 consecutive connection failures (connection_refused: connect ECONNREFUSED 127.0.0.1:9)');
  });

  test('consecutive failures of any class; the harness’s abandoned requests neither count nor break a run', () => {
    const judge = conditions({ connectionFailures: 0, consecutiveFailures: 4 });
    expect(observeAll(judge, [serverError, refused, abandoned, abandoned, serverError])).toEqual(Array(5).fill(null));
    expect(judge.observe(serverError)).toBe('4 consecutive failed requests (http_500: boom)');
    // 0 turns a condition off.
    const off = conditions({ connectionFailures: 0 });
    expect(observeAll(off, Array(100).fill(refused)).every((reason) => reason === null)).toBe(true);
  });

  test('the runs are shared by every thread of the shard (one state, several judges)', () => {
    const state = createShardStopState();
    const [first, second] = [conditions({ connectionFailures: 4 }, state), conditions({ connectionFailures: 4 }, state)];
    expect(observeAll(first, [refused, refused])).toEqual([null, null]);
    expect(second.observe(refused)).toBeNull();
    expect(second.observe(refused)).toMatch(/^4 consecutive connection failures/);
  });

  test('error rate: judged only with minRequests in the window, then above the bound', () => {
    const judge = conditions({ errorRate: { above: 0.5, windowMs: 60_000, minRequests: 10 } });
    // 9 requests, all failed: too few to judge.
    expect(observeAll(judge, Array(9).fill(serverError)).every((reason) => reason === null)).toBe(true);
    expect(judge.observe(serverError)).toMatch(
      /^error rate 100% over the last 1 min, above 50% \(10 of 10 requests failed; http_500: boom\)$/,
    );
    const healthy = conditions({ errorRate: { above: 0.5, windowMs: 60_000, minRequests: 10 } });
    const mixed = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? ok : serverError));
    // Exactly half failed: not above 50 %.
    expect(observeAll(healthy, mixed).every((reason) => reason === null)).toBe(true);
  });

  test('the error-rate window forgets what is older than it', async () => {
    const judge = conditions({ errorRate: { above: 0.5, windowMs: 100, minRequests: 4 } });
    expect(observeAll(judge, [serverError, serverError, serverError])).toEqual([null, null, null]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // The three old failures left the window: one new failure among three successes is 25 %.
    expect(observeAll(judge, [ok, ok, ok, serverError])).toEqual([null, null, null, null]);
  });

  test('a shard is stopped once: the first to trip it wins', () => {
    const state = createShardStopState();
    const [a, b] = [new ShardStop(state), new ShardStop(state)];
    expect(a.stopped).toBe(false);
    expect(b.trip()).toBe(true);
    expect(a.trip()).toBe(false);
    expect(a.stopped).toBe(true);
  });

  test.each([
    [3_600_000, '1 h'],
    [90_000, '1.5 min'],
    [5000, '5 s'],
    [250, '250 ms'],
  ])('spokenDuration(%d) is "%s"', (ms, words) => expect(spokenDuration(ms)).toBe(words));
});
