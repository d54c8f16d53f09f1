/**
 * Plan fields written with a unit ("250ms", "100MB", "95%"), resolved at the edge to plain numbers
 * in the unit's base: milliseconds, bytes, fractions of one. One factory serves every unit, so each
 * kind is parsed, described, bounded and rejected the same way. The bounds of every number a plan
 * holds live here too, in `PLAN_LIMITS`, each with the reason it is where it is.
 */
import { z } from 'zod';
import { shown } from './describe-issues';
import { parseBytes, parseDurationMs, parseRatio } from './units';

/**
 * Upper bounds of the numbers in a plan. Each is far above what a real test asks for and low
 * enough that the harness neither runs out of memory nor waits forever on it: a plan is data that
 * may come from anyone who can write to Redis, so every number is finite and bounded.
 */
export const PLAN_LIMITS = {
  /** Conversations in flight: a harness thread holds ~50 KiB per request in flight, so 100,000 is ~5 GB over all workers. */
  concurrency: 100_000,
  /** Arrivals per second: 60x what one harness thread sends (16,500/s measured), for many workers. */
  rate: 1_000_000,
  /** Measured requests of a phase: a week (the longest phase) at the highest rate. */
  requests: 1_000_000_000_000,
  /** Tokens asked per reply, filler words per prompt: no model's context window holds a million words. */
  tokens: 1_000_000,
  /** Turns of a conversation, facts planted in it, the distance of a probe: a conversation keeps its history. */
  turns: 10_000,
  /** Words a conversation's history reaches (turns x (prompt + reply)): above the largest context windows. */
  historyTokens: 10_000_000,
  /** Model-switch cycles and requests per model: the scenario is sequential, one request at a time. */
  switchRepeats: 10_000,
  /** Phases of a plan, models of a phase or a mock, stages of a load: lists a person writes by hand. */
  listItems: 1_000,
  /** Shards of a phase: one job per shard, each held by its own worker. */
  shards: 10_000,
  /** Abort thresholds (consecutive failures, requests in a window). */
  abortCount: 1_000_000,
  /** A mock model's context window, in tokens (the largest real ones are ~10 million). */
  contextWindowTokens: 10_000_000,
  /** Linux's largest pid_max. */
  pid: 4_194_304,
  /** Names of plans and phases go into run ids, Redis keys and file names (255 bytes at most). */
  nameChars: 100,
  /** Model names (with organisation, tag and quantisation they stay under ~100). */
  modelNameChars: 256,
  /** Memory samples or stability windows over a phase: each is kept, sent and reported. */
  seriesPoints: 2_000_000,
} as const;

/** A bound as users write it ("1h"), with an optional reason shown after it. */
interface Bound {
  value: string;
  why?: string;
}

interface UnitSpec {
  noun: string;
  examples: string;
  written: string;
  parse(text: string): number | undefined;
  /** Largest value of any field of this kind, unless the field says otherwise. */
  max: Bound;
}

// A week: longer than any phase, shorter than Node's longest timer (2^31 - 1 ms, 24.8 days),
// past which a timer fires at once instead.
const A_WEEK: Bound = { value: '168h', why: 'a week, the longest a phase may run' };

const UNITS = {
  duration: { noun: 'a duration', examples: '"500ms" or "30s"', written: '"250ms", "30s", "2m"', parse: parseDurationMs, max: A_WEEK },
  bytes: {
    noun: 'a size',
    examples: '"100MB" or "14GB"',
    written: '"100MB", "14GB", "512MiB"',
    parse: parseBytes,
    max: { value: '1PB', why: 'more memory than any machine has' },
  },
} satisfies Record<string, UnitSpec>;

function withUnit(spec: UnitSpec, description: string, bounds: { min?: Bound; max?: Bound }) {
  const expected = `must be ${spec.noun} with a unit, such as ${spec.examples}`;
  const min = bounds.min ?? { value: '0' + (spec === UNITS.bytes ? 'B' : 's') };
  const max = bounds.max ?? spec.max;
  const minValue = spec.parse(min.value) as number;
  const maxValue = spec.parse(max.value) as number;
  const range = `from ${min.value} to ${max.value}`;
  return z
    .string({ error: expected })
    .describe(`${description} Written with a unit: ${spec.written}; ${range}.`)
    .transform((text, ctx) => {
      const value = spec.parse(text);
      let message: string | undefined;
      if (value === undefined || Number.isNaN(value)) message = `${expected} (got ${shown(text)})`;
      else if (value < minValue) message = `must be at least ${min.value} (got ${shown(text)})${min.why ? `: ${min.why}` : ''}`;
      else if (!(value <= maxValue)) message = `must be at most ${max.value} (got ${shown(text)})${max.why ? `: ${max.why}` : ''}`;
      if (message !== undefined) {
        ctx.issues.push({ code: 'custom', input: text, message });
        return z.NEVER;
      }
      return value as number;
    });
}

/**
 * A duration written with a unit ("250ms", "30s", "2m"), resolved to milliseconds; from 0 (or
 * `min`) to a week (or `max`).
 */
export function duration(description: string, bounds: { min?: Bound; max?: Bound } = {}) {
  return withUnit(UNITS.duration, description, bounds);
}

/** The shortest interval between samples, windows or checks: timers cannot keep a faster pace. */
export const SHORTEST_INTERVAL: Bound = { value: '10ms', why: 'timers cannot keep a faster pace' };

/** A byte size with a unit ("100MB", "14GB", "512MiB"), resolved to bytes; from 0 (or `min`) to 1 PB (or `max`). */
export function byteSize(description: string, bounds: { min?: Bound; max?: Bound } = {}) {
  return withUnit(UNITS.bytes, description, bounds);
}

/** A fraction written as a percentage ("1%") or a number from 0 to 1, resolved to 0..1. */
export function fraction(description: string) {
  return z
    .union([z.number().min(0).max(1), z.string()])
    .describe(`${description} A percentage such as "1%", or a number from 0 to 1.`)
    .transform((value, ctx) => {
      const ratio = typeof value === 'number' ? value : parseRatio(value);
      if (ratio === undefined || !(ratio >= 0 && ratio <= 1)) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `must be a percentage from "0%" to "100%" (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      return ratio;
    });
}

/** Lower-case names (plans, phases): they appear in run ids, file names and Redis keys. */
const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** A plan or phase name: lower-case letters, digits and dashes, at most `PLAN_LIMITS.nameChars`. */
export function planName(example: string) {
  return z
    .string()
    .max(PLAN_LIMITS.nameChars, 'it goes into run ids and file names')
    .regex(NAME, `must be lower-case letters, digits and dashes, such as "${example}"`);
}
