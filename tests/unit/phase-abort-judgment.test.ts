/**
 * The phase-wide judgment of abort conditions: what a controlled shard reports (`AbortTally`), how
 * the tallies of a phase's shards add up (a run of failures counts only when nothing broke it on
 * any shard; error-rate slots add exactly on the run's clock), and that the phase and a lone shard
 * use the same judge and words.
 */
import { abortReason } from '../../src/shared/abort-reason';
import { mergeAbortTallies, type AbortTally } from '../../src/shared/abort-tally';
import type { Phase } from '../../src/shared/phase-schema';
import { phaseStopReason, shardStopReason } from '../../src/shared/phase-stop-reason';
import { emptyShardResult } from '../../src/shared/shard-result';
import { runClockResult } from '../../src/worker/run-clock-result';
import { AbortConditions } from '../../src/worker/scenarios/abort-conditions';
import { createShardStopState, ShardStop } from '../../src/worker/scenarios/shard-stop';
import type { RequestFailure } from '../../src/worker/targets/llm-target';
import { OK_OUTCOME } from '../helpers/request-outcomes';

const abort = (overrides: Partial<Phase['abort']> = {}): Phase['abort'] => ({
  connectionFailures: 20,
  consecutiveFailures: 0,
  ...overrides,
});

const tally = (overrides: Partial<AbortTally> = {}): AbortTally => ({
  asOfMs: 10_000,
  connectionRun: 0,
  connectionRunFromMs: null,
  lastReachedMs: null,
  failureRun: 0,
  failureRunFromMs: null,
  lastOkMs: null,
  slots: [],
  lastFailure: null,
  ...overrides,
});

const ok = OK_OUTCOME;
const serverError: RequestFailure = { ok: false, startMs: 0, endMs: 1, errorClass: 'http_500', message: 'boom' };
const refused: RequestFailure = { ...serverError, errorClass: 'connection_refused', message: 'refused', connectionFailure: true };

describe('merging the tallies of a phase', () => {
  test('runs that began after every success anywhere add up: the target went down for all shards', () => {
    const shards = [
      tally({ failureRun: 4, failureRunFromMs: 1010, lastOkMs: 1000, lastFailure: 'http_500: old' }),
      tally({ failureRun: 3, failureRunFromMs: 1005, lastOkMs: 1002, asOfMs: 10_001, lastFailure: 'http_500: newest' }),
    ];
    const merged = mergeAbortTallies(abort({ consecutiveFailures: 7 }), shards, 10_000);
    expect(merged).toMatchObject({ failureRun: 7, connectionRun: 0, window: null, example: 'http_500: newest' });
    expect(phaseStopReason(abort({ consecutiveFailures: 7 }), shards, 2, 10_000)).toEqual({
      reason: '7 consecutive failed requests (http_500: newest), all 2 shards together',
      atMs: 10_000,
    });
  });

  test('a run another shard broke with a later success counts for nothing (never more than the failures in a row)', () => {
    const shards = [
      tally({ failureRun: 5, failureRunFromMs: 1000, lastOkMs: 900 }),
      // This shard succeeded after the first one's run began: that run was not consecutive phase-wide.
      tally({ failureRun: 2, failureRunFromMs: 1300, lastOkMs: 1200 }),
    ];
    expect(mergeAbortTallies(abort(), shards, 10_000).failureRun).toBe(2);
    expect(phaseStopReason(abort({ consecutiveFailures: 6 }), shards, 2, 10_000)).toBeNull();
  });

  test('connection failures: a request that reached the server anywhere breaks the run; a shard never reached counts from its first failure', () => {
    const shards = [
      tally({ connectionRun: 12, connectionRunFromMs: 2000, lastReachedMs: null }),
      tally({ connectionRun: 9, connectionRunFromMs: 2100, lastReachedMs: 1500, lastOkMs: 1500 }),
      tally({ lastReachedMs: 1990 }),
    ];
    expect(mergeAbortTallies(abort(), shards, 10_000).connectionRun).toBe(21);
    expect(phaseStopReason(abort(), shards, 3, 10_000)?.reason).toBe('20 consecutive connection failures, all 3 shards together');
    const reachedLater = [...shards.slice(0, 2), tally({ lastReachedMs: 2050 })];
    expect(mergeAbortTallies(abort(), reachedLater, 10_000).connectionRun).toBe(9);
  });

  test('error rate: slots of every shard add up on the run clock; slots out of the window are left out; minRequests is phase-wide', () => {
    // 10 s window: 1 s slots; now is in slot 100.
    const rule = abort({ errorRate: { above: 0.3, windowMs: 10_000, minRequests: 40 } });
    const shards = [
      tally({
        slots: [
          [100, 12, 6],
          [95, 8, 4],
          [90, 50, 0],
        ],
      }),
      tally({
        slots: [
          [99, 10, 5],
          [91, 10, 0],
        ],
      }),
      tally({ slots: [[101, 30, 30]] }), // a slot after now (a clock a hair ahead): not yet counted
    ];
    expect(mergeAbortTallies(rule, shards, 100_500).window).toEqual({ requests: 40, failures: 15 });
    expect(phaseStopReason(rule, shards, 3, 100_500)?.reason).toBe(
      'error rate 37.5% over the last 10 s, above 30% (15 of 40 requests failed), all 3 shards together',
    );
    // No shard alone holds minRequests: only the phase does.
    for (const shard of shards) expect(phaseStopReason(rule, [shard], 1, 100_500)).toBeNull();
  });

  test('a shard that stopped itself is named in the stop its siblings are given', () => {
    expect(shardStopReason({ reason: '5 consecutive failed requests (http_500: boom)', atMs: 7 }, 2, 4, 'w-1')).toEqual({
      reason: '5 consecutive failed requests (http_500: boom), on shard 3 of 4 (w-1)',
      atMs: 7,
    });
  });
});

describe('a controlled shard', () => {
  test('keeps the times a phase-wide judgment needs, on the run clock', () => {
    const offset = 3_600_000;
    const shard = new ShardStop(createShardStopState({ clockOffsetMs: offset, controlled: true }));
    const judge = new AbortConditions(shard, abort({ consecutiveFailures: 100 }));
    const before = Date.now() + offset;
    for (const outcome of [ok, serverError, refused, refused]) judge.observe(outcome);
    const reported = shard.tally(undefined, 'connection_refused: refused');
    // After the tally: its asOfMs is when it read the counts.
    const after = Date.now() + offset;
    expect(reported).toMatchObject({ connectionRun: 2, failureRun: 3, slots: [], lastFailure: 'connection_refused: refused' });
    for (const time of [
      reported.lastOkMs,
      reported.lastReachedMs,
      reported.failureRunFromMs,
      reported.connectionRunFromMs,
      reported.asOfMs,
    ]) {
      expect(time).toBeGreaterThanOrEqual(Math.floor(before));
      expect(time).toBeLessThanOrEqual(after);
    }
    // The failure run began after the success; the connection run after the 500 that reached the server.
    expect(reported.failureRunFromMs!).toBeGreaterThanOrEqual(reported.lastOkMs!);
    expect(reported.connectionRunFromMs!).toBeGreaterThanOrEqual(reported.lastReachedMs!);
  });

  test('counts error-rate slots on the run clock but leaves judging the rate to the phase', () => {
    const offset = -7_000;
    const rule = abort({ errorRate: { above: 0.5, windowMs: 60_000, minRequests: 10 } });
    const shard = new ShardStop(createShardStopState({ clockOffsetMs: offset, controlled: true }));
    const judge = new AbortConditions(shard, rule);
    const reasons = Array.from({ length: 30 }, () => judge.observe(serverError));
    expect(reasons.every((reason) => reason === null)).toBe(true);
    const slotMs = 6000;
    const { slots } = shard.tally(slotMs, null);
    expect(slots).toEqual([[Math.floor((Date.now() + offset) / slotMs), 30, 30]]);
    // The same outcomes on a lone shard: the same judge holds, in the same words as the phase's.
    const lone = new AbortConditions(new ShardStop(createShardStopState()), rule);
    const loneReasons = Array.from({ length: 10 }, () => lone.observe(serverError));
    expect(loneReasons[9]).toBe(
      abortReason(rule, { connectionRun: 0, failureRun: 10, window: { requests: 10, failures: 10 } }, 'http_500: boom'),
    );
  });
});

test("a result moved to the run's clock: epoch times shift, phase-relative ones and stop reasons stay", () => {
  const result = {
    ...emptyShardResult(),
    firstStartMs: 1000,
    lastEndMs: 2000,
    stopped: { reason: 'x', atMs: 5000 },
    shards: [
      { shardIndex: 0, worker: 'w', host: 'h', node: 'v20', cpus: 2, threads: 1, attempts: 1, durationMs: 9, firstRequestAtMs: 1000 },
    ],
    series: { windowMs: 1000, originEpochMs: 900, windows: [] },
    requestLog: [
      {
        startMs: 1500,
        ttftMs: null,
        e2eMs: 3,
        outputTokens: 1,
        inputTokens: 1,
        errorClass: null,
        model: 'm',
        conversation: 'c',
        shard: 0,
        weight: 1,
      },
    ],
  };
  const moved = runClockResult(result, -250);
  expect(moved).toMatchObject({ firstStartMs: 750, lastEndMs: 1750, stopped: { atMs: 5000 }, series: { originEpochMs: 650 } });
  expect(moved.shards[0]!.firstRequestAtMs).toBe(750);
  expect(moved.requestLog[0]!.startMs).toBe(1250);
});
