/**
 * HdrHistograms: recorded per thread in integer units (microseconds for times), shipped as
 * compressed base64 across threads and Redis, and merged by adding, never by averaging percentiles.
 */
import type * as hdr from 'hdr-histogram-js';
import type { Summary } from './phase-metrics';

// Every histogram here is a JsHistogram: built by `createHistogram` or decoded.
export type Histogram = hdr.JsHistogram;

// hdr-histogram-js's index loads its WebAssembly build, its log reader and writer and ICU number
// formats (~40 ms of every thread's and the CLI's start); these are the two parts we use: the
// histogram (loaded with this module, every thread records) and its encoding (loaded when first
// needed, ~13 ms: pako).
type Int32HistogramModule = typeof import('hdr-histogram-js/dist/Int32Histogram');
type EncodingModule = typeof import('hdr-histogram-js/dist/JsHistogram.encoding');
const { default: Int32Histogram } = require('hdr-histogram-js/dist/Int32Histogram') as Int32HistogramModule;
let encoding: EncodingModule | undefined;
/** Loads the encoding, which also gives JsHistogram its `encodeIntoCompressedBase64`. */
const loadEncoding = (): EncodingModule => (encoding ??= require('hdr-histogram-js/dist/JsHistogram.encoding') as EncodingModule);

/** 3 significant digits: 0.1 % error, the resolution autocannon and k6 report at. */
export function createHistogram(): Histogram {
  // What `hdr.build({ numberOfSignificantValueDigits: 3 })` makes: 32-bit counts, resized as values come.
  const histogram = new Int32Histogram(1, 2, 3);
  histogram.autoResize = true;
  return histogram;
}

export function encodeHistogram(histogram: Histogram): string {
  loadEncoding();
  return histogram.encodeIntoCompressedBase64();
}

export function decodeHistogram(encoded: string): Histogram {
  const { decompress, doDecode } = loadEncoding();
  return doDecode(decompress(Buffer.from(encoded.trim(), 'base64')));
}

/** Adds encoded histograms into one; an empty list gives an empty histogram. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const item of encoded) merged.add(decodeHistogram(item));
  return merged;
}

/** Adds encoded histograms and encodes the sum again (for shard -> phase merging). */
export function mergeEncodedToEncoded(encoded: readonly string[]): string {
  return encodeHistogram(mergeEncoded(encoded));
}

/** Percentiles of a histogram, divided by `divisor` (1000 turns microseconds into ms). */
export function summarize(histogram: Histogram, divisor = 1000): Summary | null {
  if (histogram.totalCount === 0) return null;
  const at = (percentile: number) => histogram.getValueAtPercentile(percentile) / divisor;
  return {
    count: histogram.totalCount,
    min: histogram.minNonZeroValue / divisor,
    p10: at(10),
    mean: histogram.mean / divisor,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: histogram.maxValue / divisor,
  };
}
