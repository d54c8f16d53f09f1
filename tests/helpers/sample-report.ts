/**
 * Realistic RunReports for report tests, made by the real producers from simulated requests: a
 * distributed run of five phases (a closed-loop ramp, an open loop that saturates, a model-switch
 * sequence, a phase whose target fails until it is stopped, a soak with a harness leak and an
 * untrustworthy generator), a local run of one phase in one window, and a local run without
 * criteria (no streaming, so no TTFT). User-written strings carry HTML to test the escaping.
 */
import { evaluateCriterion } from '../../src/shared/criteria';
import { leakVerdict } from '../../src/coordinator/metrics/leak-verdict';
import { summarize, createHistogram } from '../../src/shared/histogram';
import { readPlanInput, validatePlan } from '../../src/shared/parse-plan';
import type { MemorySample, PhaseMetrics, SwitchRequest } from '../../src/shared/phase-metrics';
import type { Phase } from '../../src/shared/phase-schema';
import type { Plan } from '../../src/shared/plan-schema';
import { REPORT_SCHEMA_VERSION, type PhaseReport, type RunReport } from '../../src/shared/run-report';
import { createRandom } from '../../src/shared/seeded-random';
import { stagedValueAt } from '../../src/shared/staged-load';
import { recordedMetrics, SAMPLE_EPOCH_MS, SampleRecording } from './sample-recording';

/** Strings that must come out of report.html escaped, never as markup. */
export const HOSTILE = {
  description: 'Every chart, <b>bold</b> & "quoted"',
  model: 'qwen<2.5>&"7b"',
  worker: 'worker-b<img src=x onerror=alert(1)>',
  errorBody: `HTTP 500: {"error":"</script><script>alert('pwned')</script> model crashed"}`,
  runId: 'sample-run-</script>-1',
};

const FULL_PLAN = `
name: sample-run
description: '${HOSTILE.description}'
seed: 7
target: { kind: openai, baseUrl: "http://127.0.0.1:8000/v1", memory: { source: ollama-ps, url: "http://127.0.0.1:11434" } }
phases:
  - name: ramp
    description: Closed loop ramping from 1 to 8 conversations, then holding 8
    scenario: requests
    models: [llama-3-8b]
    shards: 2
    load:
      concurrency: 8
      warmup: 1s
      stages: [{ duration: 2s, concurrency: 1 }, { duration: 10s, concurrency: 8 }, { duration: 10s, concurrency: 8 }]
    context: { facts: 3, minDistance: 2 }
    criteria: { latency.e2e.p95: "< 1s", latency.ttft.p99: "< 300ms", latency.itl.p99: "< 50ms", throughput.rps: "> 10",
                concurrency.mean: ">= 5", stability: "> 90%", context.preservation: "> 95%", memory.harness.peak: "< 400MB" }
  - name: saturation
    description: Open loop from 5 to 40 arrivals per second against a server that serves about 21
    scenario: requests
    models: [llama-3-8b]
    shards: 2
    load: { mode: open, concurrency: 16, stages: [{ duration: 2s, rate: 5 }, { duration: 18s, rate: 40 }] }
    criteria: { throughput.rps: "> 25", latency.e2e.p99: "< 2s", concurrency.peak: "<= 16", latency.tpot.p95: "< 40ms" }
  - name: switching
    scenario: model-switch
    models: [llama-3-8b, '${HOSTILE.model}']
    switch: { cycles: 3, requestsPerModel: 4 }
    conversation: { turns: 24 }
    context: { facts: 3, minDistance: 2 }
    criteria: { switch.time.p95: "< 2s", switch.penalty: "< 1s", context.accuracy: "> 90%", memory.target.growth: "< 100MB" }
  - name: errors
    scenario: requests
    models: [llama-3-8b]
    shards: 2
    load: { concurrency: 4, duration: 30s }
    criteria: { requests.errorRate: "< 1%", latency.e2e.p95: "< 1s" }
  - name: soak
    scenario: requests
    models: [llama-3-8b]
    shards: 2
    load: { concurrency: 2, duration: 30s, warmup: 2s }
    memory: { interval: 500ms, leakThreshold: 20MB }
    criteria: { memory.harness.growth: "< 20MB", memory.target.peak: "< 6GB", generator.eventLoopLag.p99: "< 50ms" }
`;

const plan = (text: string) => validatePlan(readPlanInput(text, 'sample.yaml'), 'sample.yaml');
const phaseNamed = (resolved: Plan, name: string) => resolved.phases.find((phase) => phase.name === name) as Phase;

/** A log-normal factor around 1: latency noise with a tail. */
function noise(random: () => number, sigma: number): number {
  const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.exp(sigma * gaussian);
}

/** Memory samples every `intervalMs` over [0, endMs), one series per worker, merged on one timeline as reports hold them. */
function memorySamples(endMs: number, intervalMs: number, perWorker: Array<(tMs: number) => number>, random: () => number) {
  const series = perWorker.map((bytesAt, worker) =>
    Array.from({ length: Math.floor(endMs / intervalMs) }, (_, i): MemorySample => {
      const tMs = i * intervalMs + worker * 17;
      return { tMs, bytes: Math.round(bytesAt(tMs) * (1 + (random() - 0.5) * 0.01)) };
    }),
  );
  return { series, merged: series.flat().sort((a, b) => a.tMs - b.tMs) };
}

function emptyContext(): PhaseMetrics['context'] {
  return { probes: 0, recalled: 0, preservation: null, crossSwitchProbes: 0, crossSwitchRecalled: 0, accuracy: null, byDistance: [] };
}

function noSwitches(): PhaseMetrics['switch'] {
  return { count: 0, time: null, warm: null, penaltyP50: null, loadTime: null, sequence: [] };
}

function trustworthy(recording: SampleRecording): PhaseMetrics['generator'] {
  const machine = { host: 'ci-runner-1', cores: 4, harnessCores: 0.62, otherCores: 0.21, stealCores: 0.01 };
  return {
    eventLoopLag: summarize(recording.histograms.loopLag),
    busiestUtilization: 0.34,
    trustworthy: true,
    cause: null,
    machine,
    warnings: [],
  };
}

/** The metrics every phase has, from its recording; scenario-specific parts are overridden by the caller. */
function baseMetrics(phase: Phase, recording: SampleRecording, durationMs: number): PhaseMetrics {
  const { ok, errors, byClass } = recording;
  const total = ok + errors;
  const seconds = durationMs / 1000;
  const noTrend = { slopeBytesPerSecond: null, interceptBytes: null, verdict: 'insufficient-data' as const };
  return {
    durationMs,
    stopped: null,
    requests: {
      total,
      ok,
      errors,
      errorRate: total > 0 ? errors / total : null,
      good: ok,
      goodRatio: total > 0 ? ok / total : null,
      byClass,
      samples: {},
    },
    throughput: { requestsPerSecond: ok / seconds, goodput: ok / seconds, outputTokensPerSecond: recording.outputTokens / seconds },
    ...recordedMetrics(recording, phase),
    tokens: {
      output: recording.outputTokens,
      input: ok * 180,
      perRequestRate: summarize(recording.histograms.tokenRate, 1000),
      source: 'server',
      cachedInput: null,
      cachedInputRatio: null,
    },
    connections: { opened: phase.load.concurrency, retried: 0 },
    concurrency: { requested: phase.load.concurrency, mean: recording.inFlightMs / durationMs, peak: phase.load.concurrency },
    context: emptyContext(),
    switch: noSwitches(),
    memory: {
      harness: { rssPeak: null, rssGrowth: null, heapPeak: null, samples: [], ...noTrend },
      target: {
        source: 'none',
        unit: 'bytes',
        peak: null,
        growth: null,
        samples: [],
        failedReadings: 0,
        readError: null,
        unreadable: null,
        ...noTrend,
      },
      gcPauses: null,
      heapSnapshots: [],
    },
    load: { mode: phase.load.mode, scheduled: 0, late: 0, dropped: 0, schedulingLag: null },
    generator: trustworthy(recording),
  };
}

/** Harness memory: two workers' RSS over the phase, with the leak verdict the coordinator gives. */
function harnessMemory(phase: Phase, endMs: number, levels: Array<(tMs: number) => number>, random: () => number) {
  const { series, merged } = memorySamples(endMs, phase.memory.intervalMs, levels, random);
  const measured = series.map((samples) => samples.filter((sample) => sample.tMs >= phase.load.warmupMs));
  const peaks = measured.flat().map((sample) => sample.bytes);
  const growth = (samples: MemorySample[]) => (samples.at(-1)?.bytes ?? 0) - (samples[0]?.bytes ?? 0);
  return {
    rssPeak: Math.max(...peaks),
    rssGrowth: Math.max(...measured.map(growth)),
    heapPeak: Math.round(Math.max(...peaks) * 0.4),
    samples: merged,
    ...leakVerdict(measured, phase.memory.leakThresholdBytes),
  };
}

interface ClosedLoop {
  measuredMs: number;
  slots: number;
  /** Conversations asked for at `tMs` after the measured start. */
  active: (tMs: number) => number;
  /** One request started at `tMs` with `inFlight` others: its latency, or the class it failed with. */
  serve: (tMs: number, inFlight: number, random: () => number) => { e2eMs: number; ttftMs?: number; errorClass?: string };
  stopAtMs?: number;
  streamed?: boolean;
}

/** Conversations sending turn after turn; each slot on shard slot % 2, requests cut at the measured end. */
function runClosedLoop(recording: SampleRecording, loop: ClosedLoop, random: () => number): void {
  const endMs = loop.stopAtMs ?? loop.measuredMs;
  for (let slot = 0; slot < loop.slots; slot++) {
    let tMs = slot * 23;
    while (tMs < endMs) {
      const inFlight = Math.round(loop.active(tMs));
      if (slot >= inFlight) {
        tMs += 100;
        continue;
      }
      const served = loop.serve(tMs, inFlight, random);
      if (tMs + served.e2eMs > endMs) break;
      const tokens = loop.streamed === false ? 1 : 32;
      const request = { shard: slot % 2, startMs: tMs, endMs: tMs + served.e2eMs, outputTokens: tokens };
      recording.request({ ...request, ...served }, random);
      tMs += served.e2eMs + 3;
    }
  }
  for (let tMs = 0; tMs < endMs; tMs += 250) {
    for (let shard = 0; shard < 2; shard++) recording.loopLag(shard, tMs, 0.8 + random() * 4);
  }
}

function phaseReport(phase: Phase, metrics: PhaseMetrics, shards: number, workers: string[]): PhaseReport {
  const criteria = phase.criteria.map((criterion) => evaluateCriterion(criterion, metrics));
  const passed =
    metrics.stopped === null && criteria.every((c) => c.passed) && (metrics.generator.trustworthy || !phase.generator.failOnUntrustworthy);
  const shardInfo = Array.from({ length: shards }, (_, shardIndex) => ({
    shardIndex,
    worker: workers[shardIndex % workers.length] as string,
    host: `host-${shardIndex % workers.length}`,
    node: 'v20.19.5',
    cpus: 4,
    threads: 2,
    attempts: 1,
    durationMs: metrics.durationMs + 40 + shardIndex * 7,
    firstRequestAtMs: SAMPLE_EPOCH_MS + shardIndex * 3,
  }));
  return {
    name: phase.name,
    scenario: phase.scenario,
    models: [...phase.models],
    passed,
    error: null,
    metrics,
    criteria,
    shards: shardInfo,
  };
}

function rampPhase(phase: Phase, workers: string[]): PhaseReport {
  const random = createRandom(101);
  const recording = new SampleRecording();
  const stages = phase.load.stages ?? [];
  const measuredMs = phase.load.durationMs ?? 0;
  runClosedLoop(
    recording,
    {
      measuredMs,
      slots: phase.load.concurrency,
      active: (tMs) => stagedValueAt(stages, 'concurrency', tMs + phase.load.warmupMs),
      serve: (_t, inFlight, r) => ({ e2eMs: (250 + 35 * inFlight) * noise(r, 0.22), ttftMs: (40 + 8 * inFlight) * noise(r, 0.3) }),
    },
    random,
  );
  const metrics = baseMetrics(phase, recording, measuredMs);
  const endMs = phase.load.warmupMs + measuredMs;
  metrics.memory.harness = harnessMemory(phase, endMs, [(t) => 180e6 + t * 200, (t) => 195e6 + t * 150], random);
  const byDistance = [
    { distance: 2, probes: 40, recalled: 40 },
    { distance: 3, probes: 40, recalled: 40 },
    { distance: 4, probes: 40, recalled: 39 },
    { distance: 5, probes: 40, recalled: 37 },
  ];
  metrics.context = { ...emptyContext(), probes: 160, recalled: 156, preservation: 156 / 160, byDistance };
  metrics.memory.target = {
    ...metrics.memory.target,
    source: 'ollama-ps',
    failedReadings: 44,
    readError: 'connect ECONNREFUSED 127.0.0.1:11434',
  };
  return phaseReport(phase, metrics, phase.shards, workers);
}

interface Pending {
  shard: number;
  scheduledMs: number;
  startMs: number;
  workMs: number;
  doneMs: number;
  ttftMs?: number;
}

/** Open loop against a server of 6 slots (processor sharing): past ~21 requests/s it saturates and arrivals queue. */
function simulateOpenLoop(
  phase: Phase,
  recording: SampleRecording,
  random: () => number,
): { late: number; dropped: number; lags: number[] } {
  const stages = phase.load.stages ?? [];
  const measuredMs = phase.load.durationMs ?? 0;
  const [stepMs, slots, cap] = [5, 6, phase.load.concurrency];
  const waiting: Pending[] = [];
  let active: Pending[] = [];
  let nextArrivalMs = 0;
  let arrivals = 0;
  const result = { late: 0, dropped: 0, lags: [] as number[] };
  for (let tMs = 0; tMs < measuredMs; tMs += stepMs) {
    while (nextArrivalMs <= tMs) {
      const shard = arrivals++ % 2;
      recording.scheduled(shard, nextArrivalMs);
      waiting.push({ shard, scheduledMs: nextArrivalMs, startMs: 0, workMs: 280 * noise(random, 0.2), doneMs: 0 });
      nextArrivalMs += 1000 / stagedValueAt(stages, 'rate', nextArrivalMs);
    }
    while (active.length < cap && waiting.length > 0) {
      const started = waiting.shift() as Pending;
      started.startMs = tMs;
      result.lags.push(tMs - started.scheduledMs);
      if (tMs - started.scheduledMs > 10) result.late++;
      active.push(started);
    }
    const share = (stepMs * Math.min(1, slots / Math.max(1, active.length))) as number;
    for (const request of active) {
      request.doneMs += share;
      if (request.ttftMs === undefined && request.doneMs >= request.workMs * 0.15) request.ttftMs = tMs + stepMs - request.startMs;
    }
    for (const done of active.filter((request) => request.doneMs >= request.workMs)) {
      recording.request({ shard: done.shard, startMs: done.startMs, endMs: tMs + stepMs, ttftMs: done.ttftMs ?? 1 }, random);
    }
    active = active.filter((request) => request.doneMs < request.workMs);
    if (tMs % 250 === 0) for (let shard = 0; shard < 2; shard++) recording.loopLag(shard, tMs, 1 + random() * 6);
  }
  result.dropped = waiting.length;
  return result;
}

function saturationPhase(phase: Phase, workers: string[]): PhaseReport {
  const random = createRandom(202);
  const recording = new SampleRecording();
  const { late, dropped, lags } = simulateOpenLoop(phase, recording, random);
  const measuredMs = phase.load.durationMs ?? 0;
  const metrics = baseMetrics(phase, recording, measuredMs);
  const lagHistogram = createHistogram();
  for (const lag of lags) lagHistogram.recordValue(Math.round(lag * 1000));
  metrics.load = { mode: 'open', scheduled: recording.scheduledCount, late, dropped, schedulingLag: summarize(lagHistogram) };
  metrics.memory.harness = harnessMemory(phase, measuredMs, [(t) => 170e6 + t * 300, (t) => 172e6 + t * 280], random);
  return phaseReport(phase, metrics, phase.shards, workers);
}

/** One conversation alternating models: the first request after a switch pays the load, one warm request times out. */
function switchSequence(phase: Phase, random: () => number): SwitchRequest[] {
  const { cycles, requestsPerModel } = phase.switch;
  const sequence: SwitchRequest[] = [];
  for (let index = 0; index < cycles * phase.models.length * requestsPerModel; index++) {
    const model = phase.models[Math.floor(index / requestsPerModel) % phase.models.length] as string;
    const first = index % requestsPerModel === 0;
    const role: SwitchRequest['role'] = index === 0 ? 'plain' : first ? 'switch' : 'warm';
    const loadMs = first ? Math.round(650 + random() * 120) : null;
    const e2eMs = index === 14 ? null : Math.round((first ? (loadMs ?? 0) + 340 : 300 + random() * 70) * 10) / 10;
    sequence.push({ index, model, role, e2eMs, loadMs });
  }
  return sequence;
}

function switchingPhase(phase: Phase, workers: string[]): PhaseReport {
  const random = createRandom(303);
  const recording = new SampleRecording(1);
  const sequence = switchSequence(phase, random);
  let tMs = 0;
  for (const request of sequence) {
    const e2eMs = request.e2eMs ?? 10_000;
    recording.request(
      { shard: 0, startMs: tMs, endMs: tMs + e2eMs, ttftMs: e2eMs * 0.3, ...(request.e2eMs === null ? { errorClass: 'timeout' } : {}) },
      random,
    );
    tMs += e2eMs + 5;
  }
  for (let lagMs = 0; lagMs < tMs; lagMs += 250) recording.loopLag(0, lagMs, 0.5 + random() * 2);
  const metrics = baseMetrics(phase, recording, tMs);
  metrics.requests.samples = { timeout: 'no response within 10.00 s' };
  metrics.concurrency.requested = 1;
  const summaryOf = (role: SwitchRequest['role'], pick: (r: SwitchRequest) => number | null) => {
    const histogram = createHistogram();
    for (const request of sequence.filter((r) => r.role === role)) {
      const value = pick(request);
      if (value !== null) histogram.recordValue(Math.round(value * 1000));
    }
    return summarize(histogram);
  };
  const time = summaryOf('switch', (r) => r.e2eMs);
  const warm = summaryOf('warm', (r) => r.e2eMs);
  const loadTime = summaryOf('switch', (r) => r.loadMs);
  metrics.switch = { count: 5, time, warm, penaltyP50: time && warm ? time.p50 - warm.p50 : null, loadTime, sequence };
  const byDistance = [
    { distance: 2, probes: 6, recalled: 6 },
    { distance: 3, probes: 6, recalled: 5 },
  ];
  metrics.context = {
    probes: 12,
    recalled: 11,
    preservation: 11 / 12,
    crossSwitchProbes: 6,
    crossSwitchRecalled: 5,
    accuracy: 5 / 6,
    byDistance,
  };
  const loaded = (t: number) => (Math.floor(t / 1400) % 2 === 0 ? 5.0e9 : 8.1e9) + t * 1000;
  const target = memorySamples(tMs, 500, [loaded], random);
  metrics.memory.target = {
    source: 'ollama-ps',
    unit: 'bytes',
    unreadable: null,
    peak: Math.max(...target.merged.map((s) => s.bytes)),
    growth: 31e6,
    samples: target.merged,
    failedReadings: 1,
    readError: 'GET /api/ps timed out after 2.00 s',
    ...leakVerdict(target.series, phase.memory.leakThresholdBytes),
  };
  metrics.memory.harness = harnessMemory(phase, tMs, [(t) => 150e6 + t * 50], random);
  return phaseReport(phase, metrics, 1, workers);
}

function errorsPhase(phase: Phase, workers: string[]): PhaseReport {
  const random = createRandom(404);
  const recording = new SampleRecording();
  const stopAtMs = 12_050;
  runClosedLoop(
    recording,
    {
      measuredMs: phase.load.durationMs ?? 0,
      slots: phase.load.concurrency,
      active: () => phase.load.concurrency,
      stopAtMs,
      serve: (tMs, _inFlight, r) => {
        if (tMs > 12_000) return { e2eMs: 1 + r() * 2, errorClass: 'connection_refused' };
        if (tMs > 8_000 && r() < (tMs - 8_000) / 5_000) return { e2eMs: 40 + r() * 30, errorClass: 'http_500' };
        if (r() < 0.01) return { e2eMs: 2_000, errorClass: 'timeout' };
        return { e2eMs: 380 * noise(r, 0.2), ttftMs: 70 * noise(r, 0.25) };
      },
    },
    random,
  );
  const metrics = baseMetrics(phase, recording, stopAtMs);
  metrics.stopped = {
    reason: '20 consecutive connection failures (connection_refused: connect ECONNREFUSED 127.0.0.1:8000)',
    atMs: SAMPLE_EPOCH_MS + stopAtMs,
  };
  metrics.requests.samples = {
    http_500: HOSTILE.errorBody,
    connection_refused: 'connect ECONNREFUSED 127.0.0.1:8000',
    timeout: 'no response within 2.00 s',
  };
  metrics.memory.harness = harnessMemory(phase, stopAtMs, [(t) => 160e6 + t * 100, (t) => 158e6 + t * 90], random);
  return phaseReport(phase, metrics, phase.shards, workers);
}

function soakPhase(phase: Phase, workers: string[]): PhaseReport {
  const random = createRandom(505);
  const recording = new SampleRecording();
  const measuredMs = phase.load.durationMs ?? 0;
  runClosedLoop(
    recording,
    { measuredMs, slots: 2, active: () => 2, serve: (_t, _n, r) => ({ e2eMs: 330 * noise(r, 0.18), ttftMs: 55 * noise(r, 0.2) }) },
    random,
  );
  // A busy machine: other processes held the CPU, so the generator's loop lagged.
  for (let tMs = 0; tMs < measuredMs; tMs += 250) recording.loopLag(0, tMs, 20 + 100 * random() * (tMs > 15_000 ? 1 : 0.3));
  const metrics = baseMetrics(phase, recording, measuredMs);
  const endMs = phase.load.warmupMs + measuredMs;
  metrics.memory.harness = harnessMemory(phase, endMs, [(t) => 190e6 + t * 1500, (t) => 185e6 + t * 60], random);
  const target = memorySamples(endMs, 500, [(t) => 5.2e9 + t * 500], random);
  metrics.memory.target = {
    source: 'ollama-ps',
    unit: 'bytes',
    unreadable: null,
    peak: Math.max(...target.merged.map((s) => s.bytes)),
    growth: 15e6,
    samples: target.merged,
    failedReadings: 0,
    readError: null,
    ...leakVerdict(target.series, phase.memory.leakThresholdBytes),
  };
  const lag = summarize(recording.histograms.loopLag);
  metrics.generator = {
    eventLoopLag: lag,
    busiestUtilization: 0.41,
    trustworthy: false,
    cause: 'machine',
    machine: { host: 'host-1', cores: 2, harnessCores: 0.31, otherCores: 1.62, stealCores: 0.05 },
    warnings: [
      'the machine was busy with other processes: they used 1.62 of 2 cores (steal 0.05) while grym-perf used 0.31: ' +
        'rerun on a quieter machine',
      `generator event-loop lag p99 ${lag?.p99.toFixed(1)} ms > 50.0 ms`,
    ],
  };
  return phaseReport(phase, metrics, phase.shards, workers);
}

function runReport(resolved: Plan, mode: RunReport['mode'], phases: PhaseReport[], runId: string): RunReport {
  const workers = new Map<string, RunReport['workers'][number]>();
  for (const shard of phases.flatMap((phase) => phase.shards)) {
    workers.set(shard.worker, { worker: shard.worker, host: shard.host, node: shard.node, cpus: shard.cpus, threads: shard.threads });
  }
  const durationMs = phases.reduce((sum, phase) => sum + phase.metrics.durationMs + 1500, 0);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId,
    plan: {
      name: resolved.name,
      ...(resolved.description ? { description: resolved.description } : {}),
      seed: resolved.seed,
      source: 'test-plans/sample.yaml',
    },
    resolvedPlan: JSON.parse(JSON.stringify(resolved)) as unknown,
    tool: { name: 'grym-perf', version: '0.1.0', node: 'v20.19.5', host: 'ci-runner-1', platform: 'linux-x64' },
    mode,
    workers: [...workers.values()],
    startedAt: new Date(SAMPLE_EPOCH_MS - 2000).toISOString(),
    finishedAt: new Date(SAMPLE_EPOCH_MS - 2000 + durationMs).toISOString(),
    durationMs,
    aborted: false,
    passed: phases.every((phase) => phase.passed),
    phases,
  };
}

/** Five phases over two workers: every chart and every kind of failure. */
export function fullSampleReport(): RunReport {
  const resolved = plan(FULL_PLAN);
  const workers = ['worker-a', HOSTILE.worker];
  const phases = [
    rampPhase(phaseNamed(resolved, 'ramp'), workers),
    saturationPhase(phaseNamed(resolved, 'saturation'), workers),
    switchingPhase(phaseNamed(resolved, 'switching'), workers),
    errorsPhase(phaseNamed(resolved, 'errors'), workers),
    soakPhase(phaseNamed(resolved, 'soak'), workers),
  ];
  return runReport(resolved, 'distributed', phases, HOSTILE.runId);
}

/** One phase of three requests, all in the first window: charts of a single point. */
export function singleWindowSampleReport(): RunReport {
  const resolved = plan(`
name: smoke
target: { kind: openai, baseUrl: "http://127.0.0.1:8000/v1" }
phases:
  - { name: smoke, scenario: requests, models: [llama-3-8b], load: { concurrency: 1, requests: 3 }, criteria: { latency.e2e.p95: "< 1s" } }
`);
  const phase = phaseNamed(resolved, 'smoke');
  const random = createRandom(606);
  const recording = new SampleRecording(1);
  runClosedLoop(
    recording,
    { measuredMs: 600, slots: 1, active: () => 1, serve: (_t, _n, r) => ({ e2eMs: 150 + r() * 40, ttftMs: 30 }) },
    random,
  );
  const metrics = baseMetrics(phase, recording, recording.lastEndMs);
  metrics.memory.harness = harnessMemory(phase, 1000, [(t) => 120e6 + t * 10], random);
  return runReport(resolved, 'local', [phaseReport(phase, metrics, 1, ['local'])], 'smoke-20261120-090000');
}

/** A minute without criteria against a server that does not stream (no TTFT, no ITL), target memory from a process. */
export function noCriteriaSampleReport(): RunReport {
  const resolved = plan(`
name: explore
target: { kind: openai, baseUrl: "http://127.0.0.1:8000/v1", stream: false, memory: { source: pid, pid: 4242 } }
phases:
  - { name: explore, scenario: requests, models: [llama-3-8b], load: { concurrency: 4, duration: 60s } }
`);
  const phase = phaseNamed(resolved, 'explore');
  const random = createRandom(707);
  const recording = new SampleRecording(1);
  const measuredMs = phase.load.durationMs ?? 0;
  runClosedLoop(
    recording,
    { measuredMs, slots: 4, active: () => 4, streamed: false, serve: (_t, _n, r) => ({ e2eMs: 420 * noise(r, 0.3) }) },
    random,
  );
  const metrics = baseMetrics(phase, recording, measuredMs);
  metrics.latency.ttft = null;
  metrics.latency.itl = null;
  metrics.latency.tpot = null;
  metrics.distributions = { ...metrics.distributions, ttft: [], itl: [], tpot: [] };
  metrics.timeline.points = metrics.timeline.points.map((point) => ({ ...point, ttft: null, itl: null }));
  metrics.memory.harness = harnessMemory(phase, measuredMs, [(t) => 140e6 + 2e6 * Math.sin(t / 5000)], random);
  const target = memorySamples(measuredMs, 500, [(t) => 2.4e9 + 5e7 * Math.sin(t / 9000)], random);
  metrics.memory.target = {
    ...metrics.memory.target,
    source: 'pid',
    peak: 2.45e9,
    growth: 1e6,
    samples: target.merged,
    ...leakVerdict(target.series, 50e6),
  };
  return runReport(resolved, 'local', [phaseReport(phase, metrics, 1, ['local'])], 'explore-20261120-090000');
}

/** Every sample report by name. */
export function sampleReports(): Record<string, RunReport> {
  return { full: fullSampleReport(), 'single-window': singleWindowSampleReport(), 'no-criteria': noCriteriaSampleReport() };
}

/** The single-window report with a throughput timeline of `points` windows: for drawing-time figures. */
export function longTimelineReport(points: number): RunReport {
  const report = singleWindowSampleReport();
  const phase = report.phases[0] as PhaseReport;
  const template = phase.metrics.timeline.points[0];
  if (!template) throw new Error('the single-window sample has no window');
  phase.metrics.timeline.points = Array.from({ length: points }, (_, index) => ({
    ...template,
    tMs: index * phase.metrics.timeline.windowMs,
    ok: 20 + Math.round(10 * Math.sin(index / 500) + 5 * Math.sin(index / 7)),
    stable: index % 997 !== 0,
  }));
  return report;
}
