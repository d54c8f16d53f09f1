/**
 * What the time series cost (issue 10): the bytes a window holds and how a long phase stays
 * bounded, and the CPU the windows add to recording one request (windows on versus off).
 * In process, no network: the recorder is fed the outcomes a streaming server would produce.
 */
import { performance } from 'node:perf_hooks';
import { MAX_WINDOWS } from '../src/shared/window-series';
import { Recorder } from '../src/worker/recorder';
import type { RequestSuccess } from '../src/worker/targets/llm-target';
import { WindowRecorder } from '../src/worker/window-recorder';

const TOKENS = 32;

/** A streamed reply: about 80 ms to the first token, then a token every 8-12 ms (varied, as a server's are). */
function outcomeAt(startMs: number, index: number): RequestSuccess {
  const ttftMs = 60 + ((index * 7919) % 40);
  const chunks: number[] = [startMs + ttftMs];
  for (let token = 1; token < TOKENS; token++) chunks.push((chunks[token - 1] as number) + 8 + ((index + token) % 5));
  return {
    ok: true,
    startMs,
    firstContentMs: startMs + ttftMs,
    endMs: chunks.at(-1) as number,
    contentChunkTimesMs: chunks,
    content: '',
    outputTokens: TOKENS,
    inputTokens: 64,
    usageFromServer: true,
  };
}

/** `count` replies in the order a thread records them: as each one ends. */
function inCompletionOrder(count: number, reply: (index: number) => RequestSuccess): RequestSuccess[] {
  return Array.from({ length: count }, (_, index) => reply(index)).sort((a, b) => a.endMs - b.endMs);
}

function heapUsedAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * One thread's hour at 100 requests/s in 1 s windows (360,000 requests of 32 tokens, on a clock
 * the bench advances): the windows it keeps, their length after coarsening, their heap, the size
 * of the encoded series that travels to the coordinator, and the time all of it took per request
 * (the live histograms, closing and encoding each window, coarsening).
 */
function oneHourOfWindows(): void {
  const perSecond = 100;
  const replies = inCompletionOrder(3600 * perSecond, (index) => outcomeAt((index * 1000) / perSecond, index));
  const before = heapUsedAfterGc();
  const startedMs = performance.now();
  const windows = new WindowRecorder(0, 1000);
  for (const reply of replies) {
    windows.recordSuccess(
      reply.endMs,
      (reply.endMs - reply.startMs) * 1000,
      ((reply.firstContentMs as number) - reply.startMs) * 1000,
      TOKENS,
    );
    for (let token = 1; token < TOKENS; token++) {
      const gapMs = (reply.contentChunkTimesMs[token] as number) - (reply.contentChunkTimesMs[token - 1] as number);
      windows.recordGap(reply.endMs, gapMs * 1000);
    }
    windows.recordInFlight(reply.startMs, reply.endMs, 1);
  }
  const series = windows.finish();
  const elapsedMs = performance.now() - startedMs;
  const retained = heapUsedAfterGc() - before;
  const encodedBytes = Buffer.byteLength(JSON.stringify(series));
  console.log('\n## 4. Time series: one thread, a one-hour phase at 100 requests/s, 1 s windows');
  console.log(
    `${series.windows.length} windows of ${series.windowMs / 1000} s kept (at most ${MAX_WINDOWS}: past that, windows double in length and neighbours merge)`,
  );
  console.log(
    `heap held by the series: ${(retained / 1e6).toFixed(2)} MB, ${(retained / series.windows.length / 1024).toFixed(1)} KiB per window; encoded for the coordinator: ${(encodedBytes / 1e6).toFixed(2)} MB, ${(encodedBytes / series.windows.length / 1024).toFixed(1)} KiB per window`,
  );
  console.log(
    `recording the hour's windows took ${(elapsedMs / 1000).toFixed(2)} s of CPU: ${((elapsedMs * 1000) / replies.length).toFixed(2)} µs per request, closing, encoding and coarsening included`,
  );
  if (series.windows.length === 0) throw new Error('no windows recorded');
}

/** Offsets (ms before the end) of a 32-token reply's start and chunks, varied as `outcomeAt`'s. */
const REPLY_SHAPES = Array.from({ length: 1000 }, (_, index) => {
  const reply = outcomeAt(0, index);
  return { startMs: reply.endMs, chunksMs: reply.contentChunkTimesMs.map((time) => reply.endMs - time) };
});

/**
 * Nanoseconds per `Recorder.record` of a 32-token streamed reply ending now (as a thread records
 * them, at the end of each request), over `requests` replies recorded back to back.
 */
function recordCostNs(requests: number): number {
  const origin = performance.timeOrigin;
  const recorder = new Recorder({ measureFromEpochMs: origin, measureUntilEpochMs: origin + 1e9, windowMs: 1000 });
  const started = performance.now();
  for (let index = 0; index < requests; index++) {
    const shape = REPLY_SHAPES[index % REPLY_SHAPES.length] as (typeof REPLY_SHAPES)[number];
    const endMs = performance.now();
    const chunks = shape.chunksMs.map((before) => endMs - before);
    recorder.started();
    recorder.record(
      {
        ok: true,
        startMs: endMs - shape.startMs,
        firstContentMs: chunks[0] as number,
        endMs,
        contentChunkTimesMs: chunks,
        content: '',
        outputTokens: TOKENS,
        inputTokens: 64,
        usageFromServer: true,
      },
      { model: 'm', conversation: 'c' },
    );
  }
  return ((performance.now() - started) * 1e6) / requests;
}

/** The windows' part of the work switched off: what recording costs without a time series. */
function withoutWindows<T>(run: () => T): T {
  const prototype = WindowRecorder.prototype as unknown as Record<string, unknown>;
  const methods = ['recordSuccess', 'recordGap', 'recordFailure', 'recordInFlight'] as const;
  const saved = methods.map((name) => prototype[name]);
  for (const name of methods) prototype[name] = () => undefined;
  try {
    return run();
  } finally {
    methods.forEach((name, index) => (prototype[name] = saved[index]));
  }
}

function recordingOverhead(): void {
  const requests = 200_000;
  recordCostNs(20_000); // warm the JIT
  withoutWindows(() => recordCostNs(20_000));
  const on: number[] = [];
  const off: number[] = [];
  // Alternated, so that a busy moment of the machine falls on both.
  for (let round = 0; round < 5; round++) {
    on.push(recordCostNs(requests));
    off.push(withoutWindows(() => recordCostNs(requests)));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const [onNs, offNs] = [median(on), median(off)];
  console.log(
    '\n## 5. Time series: recording cost per request (a 32-token streamed reply, back to back in real time, 5 alternated rounds of 200,000, medians)',
  );
  console.log(
    `windows on: ${(onNs / 1000).toFixed(2)} µs per request; off: ${(offNs / 1000).toFixed(2)} µs; the windows add ${((onNs - offNs) / 1000).toFixed(2)} µs (${(((onNs - offNs) / offNs) * 100).toFixed(0)} %)`,
  );
  console.log(
    `(rounds on: ${on.map((ns) => (ns / 1000).toFixed(2)).join(', ')} µs; off: ${off.map((ns) => (ns / 1000).toFixed(2)).join(', ')} µs)`,
  );
}

export function windowCosts(): void {
  oneHourOfWindows();
  recordingOverhead();
}
