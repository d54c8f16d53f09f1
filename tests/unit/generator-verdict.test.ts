/**
 * The generator self-check names the cause of an untrustworthy phase: grym-perf itself, or other
 * processes holding the machine's CPU while grym-perf's threads were mostly idle.
 */
import { judgeGenerator, judgedTail } from '../../src/coordinator/metrics/generator-verdict';
import { parsePlan } from '../../src/shared/parse-plan';
import type { Summary } from '../../src/shared/phase-metrics';
import type { MachineLoad } from '../../src/shared/shard-result';

const phase = parsePlan(
  'name: p\ntarget: { baseUrl: "http://127.0.0.1:1/v1" }\nphases: [{ name: a, scenario: requests, models: [m], load: { requests: 1 } }]',
).phases[0]!;
const lag = (p99: number): Summary => ({ count: 100, min: 0, p10: 0, mean: p99 / 2, p50: p99 / 2, p90: p99, p95: p99, p99, max: p99 });
// A 10 s shard on a 2-core machine, one generator thread.
const load = (processCpuMs: number, machineBusyMs: number, machineStealMs = 0): MachineLoad => ({
  worker: 'w',
  host: 'h',
  cores: 2,
  threads: 1,
  wallMs: 10_000,
  processCpuMs,
  machineBusyMs,
  machineStealMs,
});

test('a lagging generator on a quiet machine, its thread busy: grym-perf was the bottleneck', () => {
  const verdict = judgeGenerator(
    { loopLag: lag(80), schedulingLag: null, gcPauses: null, busiestUtilization: 0.97, machines: [load(9_500, 10_500)] },
    phase,
  );
  expect(verdict).toMatchObject({ trustworthy: false, cause: 'harness' });
  expect(verdict.machine).toMatchObject({ cores: 2, harnessCores: 0.95 });
  expect(verdict.machine!.otherCores).toBeCloseTo(0.1);
});

test('a lagging generator while other processes held the CPU: the machine was, and the verdict says so with the figures', () => {
  const verdict = judgeGenerator(
    { loopLag: lag(80), schedulingLag: null, gcPauses: null, busiestUtilization: 0.95, machines: [load(400, 19_600)] },
    phase,
  );
  expect(verdict).toMatchObject({ trustworthy: false, cause: 'machine' });
  expect(verdict.warnings[0]).toBe(
    'the machine was busy with other processes: they used 1.92 of 2 cores (steal 0.00) while grym-perf used 0.04: rerun on a quieter machine',
  );
  expect(verdict.warnings).toContain('generator event-loop lag p99 80.0 ms > 50.0 ms');
});

test('time stolen by the hypervisor counts against the machine too', () => {
  expect(
    judgeGenerator(
      { loopLag: lag(80), schedulingLag: null, gcPauses: null, busiestUtilization: null, machines: [load(300, 12_000, 9_000)] },
      phase,
    ).cause,
  ).toBe('machine');
});

test('a healthy generator has no cause, whatever the machine did', () => {
  expect(
    judgeGenerator({ loopLag: lag(5), schedulingLag: null, gcPauses: null, busiestUtilization: 0.3, machines: [load(400, 19_600)] }, phase),
  ).toMatchObject({ trustworthy: true, cause: null, warnings: [] });
});

test('no machine figures (not Linux): a flagged generator is blamed on itself, as before', () => {
  const verdict = judgeGenerator(
    {
      loopLag: lag(80),
      schedulingLag: null,
      gcPauses: null,
      busiestUtilization: 0.5,
      machines: [{ ...load(400, 0), machineBusyMs: null, machineStealMs: null }],
    },
    phase,
  );
  expect(verdict).toMatchObject({ cause: 'harness', machine: null });
});

test('utilization not measured (a run too short to tell) is never judged: no warning, reported null', () => {
  expect(
    judgeGenerator({ loopLag: null, schedulingLag: null, gcPauses: null, busiestUtilization: null, machines: [] }, phase),
  ).toMatchObject({ trustworthy: true, busiestUtilization: null, warnings: [] });
});

test('long GC pauses in the generator threads make a phase untrustworthy, even with a quiet event loop and idle threads', () => {
  const quiet = { loopLag: lag(5), schedulingLag: null, busiestUtilization: 0.3, machines: [load(400, 1_000)] };
  const paused = judgeGenerator({ ...quiet, gcPauses: lag(25) }, phase);
  expect(paused).toMatchObject({ trustworthy: false, cause: 'harness' });
  expect(paused.warnings).toEqual(['generator GC pauses p99 25.0 ms > 20.0 ms (100 pauses, longest 25.0 ms)']);
  expect(judgeGenerator({ ...quiet, gcPauses: lag(4) }, phase)).toMatchObject({ trustworthy: true, warnings: [] });
});

test('event-loop lag that is a large share of the judged tail latency flags the phase, though far under maxEventLoopLag', () => {
  const quiet = { schedulingLag: null, gcPauses: null, busiestUtilization: 0.08, machines: [load(800, 1_000)] };
  // A 50 ms server at 10 connections: responses that arrive together wait for each other in one loop.
  const tail = { percentile: 'p99' as const, metric: 'TTFT', latencyMs: 57 };
  const verdict = judgeGenerator({ ...quiet, loopLag: lag(7), tail }, phase);
  expect(verdict).toMatchObject({ trustworthy: false, cause: 'harness' });
  expect(verdict.warnings).toEqual([
    'generator event-loop lag p99 7.0 ms is 12 % of the TTFT p99 judged (57.0 ms): that tail measures the generator',
  ]);
  expect(judgeGenerator({ ...quiet, loopLag: lag(2), tail }, phase)).toMatchObject({ trustworthy: true, warnings: [] });
  // Under a millisecond is timer noise, whatever the latency.
  expect(judgeGenerator({ ...quiet, loopLag: lag(0.8), tail: { ...tail, latencyMs: 2 } }, phase).warnings).toEqual([]);
});

test('lag and GC pauses are judged at the percentile the criteria judge latency at', () => {
  const tailPhase = parsePlan(
    'name: p\ntarget: { baseUrl: "http://127.0.0.1:1/v1" }\nphases: [{ name: a, scenario: requests, models: [m], load: { requests: 1 }, criteria: { latency.e2e.p50: "< 1s", latency.ttft.max: "< 2s", latency.e2e.max: "< 3s" } }]',
  ).phases[0]!;
  expect(judgedTail(tailPhase)).toEqual({ percentile: 'max', metrics: ['ttft', 'e2e'] });
  expect(judgedTail(phase)).toEqual({ percentile: 'p99', metrics: ['ttft', 'e2e'] });
  const pauses: Summary = { ...lag(4), max: 30 };
  const verdict = judgeGenerator(
    {
      loopLag: null,
      schedulingLag: null,
      gcPauses: pauses,
      busiestUtilization: null,
      machines: [],
      tail: { percentile: 'max', metric: 'TTFT', latencyMs: 1000 },
    },
    tailPhase,
  );
  expect(verdict.warnings).toEqual(['generator GC pauses max 30.0 ms > 20.0 ms (100 pauses, longest 30.0 ms)']);
});

test('a built-in mock that answered late by its own clock makes the phase untrustworthy, and says whose delay it was', () => {
  const signals = { loopLag: lag(1), schedulingLag: null, gcPauses: null, busiestUtilization: 0.2, machines: [] };
  const tail = { percentile: 'p99' as const, metric: 'TTFT', latencyMs: 550 };
  // 60 ms of 550 ms at p99: the tail is the machine's stall, not the mock's settings.
  const late = judgeGenerator({ ...signals, tail, mockLateness: lag(60) }, phase);
  expect(late.trustworthy).toBe(false);
  expect(late.warnings.join('\n')).toMatch(
    /built-in mock sent first tokens late by its own clock: p99 60\.0 ms is 11 % of the TTFT p99 judged .*measures the machine, not the mock/,
  );
  // A few milliseconds of timer noise on the same tail is not a reason.
  expect(judgeGenerator({ ...signals, tail, mockLateness: lag(3) }, phase).trustworthy).toBe(true);
  // Without a mock in this process there is nothing to judge.
  expect(judgeGenerator({ ...signals, tail, mockLateness: null }, phase).trustworthy).toBe(true);
});
