/**
 * Do the percentiles merged across N hosts equal those of the same requests recorded in one place?
 *
 * Each worker thread records its requests into its own HdrHistograms; they travel compressed
 * through Redis and the coordinator adds them (thread -> shard -> phase). The request log
 * (`run --requests`) carries every measured request's raw times (the unrounded milliseconds the
 * recorder saw) from the same workers. Recording those values again, here, into one histogram of
 * the same settings is "recorded in one place": if merging lost, double-counted or shifted a
 * single request, a count or a percentile would differ. The exact percentiles of the sorted raw
 * values (nearest rank) are also given, to show the histogram's own resolution (0.1 %).
 */
import { readFileSync } from 'node:fs';
import { createHistogram, decodeHistogram, encodeHistogram, summarize } from '../../src/shared/histogram';
import type { Summary } from '../../src/shared/phase-metrics';
import type { RequestLogEntry } from '../../src/shared/shard-result';

/** The recorder's conversion (src/worker/recorder.ts): whole microseconds, at least 1. */
const toUs = (ms: number): number => Math.max(1, Math.round(ms * 1000));

const COMPARED = ['count', 'min', 'p10', 'p50', 'p90', 'p95', 'p99', 'max'] as const;

export interface PercentileCheck {
  metric: 'e2e' | 'ttft';
  /** Requests in the log with this metric, and in the report's merged summary. */
  logged: number;
  merged: number;
  /** Every request kept (no sampling), so the log is the whole population. */
  complete: boolean;
  /** Fields of the summary where merged and one-place differ (empty: identical). */
  differences: string[];
  onePlace: Summary | null;
  mergedSummary: Summary | null;
  /** Largest |HdrHistogram percentile - exact nearest-rank percentile| / exact, over p50..p99. */
  worstResolutionError: number | null;
  /** Shards the logged requests came from. */
  shards: number;
}

function exactPercentile(sorted: readonly number[], percentile: number): number {
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function readRequestLog(file: string): Array<RequestLogEntry & { phase: string }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RequestLogEntry & { phase: string });
}

/** Compares one metric of a phase: the report's merged summary against the log recorded in one place. */
export function checkMergedPercentiles(
  log: ReadonlyArray<RequestLogEntry>,
  metric: 'e2e' | 'ttft',
  mergedSummary: Summary | null,
): PercentileCheck {
  const valuesMs = log
    .filter((entry) => entry.errorClass === null)
    .map((entry) => (metric === 'e2e' ? entry.e2eMs : entry.ttftMs))
    .filter((value): value is number => value !== null);
  const histogram = createHistogram();
  for (const value of valuesMs) histogram.recordValue(toUs(value));
  // Read after one trip through the codec, as every histogram of a report is: the codec keeps
  // counts per bucket, so an exact max (or min) comes back as its bucket's highest (lowest)
  // equivalent value. Without it the max differed by up to 0.1 % with nothing lost or shifted.
  const onePlace = summarize(decodeHistogram(encodeHistogram(histogram)));
  const differences: string[] = [];
  for (const field of COMPARED) {
    const a = onePlace?.[field];
    const b = mergedSummary?.[field];
    if (a !== b) differences.push(`${field}: one place ${a}, merged ${b}`);
  }
  // The mean is a float sum in a different order: equal to rounding.
  if (onePlace && mergedSummary && Math.abs(onePlace.mean - mergedSummary.mean) > 1e-9 * Math.abs(onePlace.mean)) {
    differences.push(`mean: one place ${onePlace.mean}, merged ${mergedSummary.mean}`);
  }
  const sortedUs = valuesMs.map(toUs).sort((x, y) => x - y);
  let worst: number | null = null;
  if (onePlace && sortedUs.length > 0) {
    for (const p of [50, 90, 95, 99] as const) {
      const exact = exactPercentile(sortedUs, p) / 1000;
      const error = Math.abs(onePlace[`p${p}`] - exact) / exact;
      worst = Math.max(worst ?? 0, error);
    }
  }
  return {
    metric,
    logged: valuesMs.length,
    merged: mergedSummary?.count ?? 0,
    complete: log.every((entry) => entry.weight === 1),
    differences,
    onePlace,
    mergedSummary,
    worstResolutionError: worst,
    shards: new Set(log.map((entry) => entry.shard)).size,
  };
}
