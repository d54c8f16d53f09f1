/**
 * Flags of `npm run bench:scale -- [flags]`, parsed once into a frozen value. Defaults are the
 * full run (about 8 minutes on 2 cores); `--quick` halves every duration for development.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** The sections the bench can run, in the order it runs them. */
const SECTIONS = ['throughput', 'streams', 'exact', 'split'] as const;
export type Section = (typeof SECTIONS)[number];

const counts = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'a comma-separated list of worker counts, such as 1,2,4')
  .transform((value) => [...new Set(value.split(',').map(Number))].sort((a, b) => a - b))
  .refine((list) => list.every((n) => n >= 1 && n <= 8), 'worker counts must be 1 to 8')
  .refine((list) => list[0] === 1, 'the list must hold 1: scaling factors are read against one worker');

const flagsSchema = z
  .strictObject({
    workers: counts.prefault('1,2,4').describe('worker counts N to run each workload with'),
    only: z
      .string()
      .transform((value) => value.split(','))
      .pipe(z.array(z.enum(SECTIONS)))
      .prefault(SECTIONS.join(','))
      .describe('sections to run, comma-separated'),
    share: z.coerce.number().min(0.02).max(1).default(0.25).describe('CPU quota of each worker, in cores'),
    'period-ms': z.coerce.number().int().min(1).max(1000).default(100).describe('CFS period of the worker groups, ms'),
    concurrency: z.coerce.number().int().min(1).max(256).default(8).describe('throughput: requests in flight per worker'),
    streams: z.coerce.number().int().min(1).max(5000).default(500).describe('held streams per worker'),
    'exact-requests': z.coerce.number().int().min(10).max(20_000).default(2000).describe('exactness: requests per worker'),
    reps: z.coerce.number().int().min(1).max(5).default(1).describe('repetitions of each case; tables show the median by requests/s'),
    quick: z.boolean().default(false).describe('half the durations, for development'),
    json: z.string().optional().describe('also write every figure to this JSON file'),
  })
  .superRefine((flags, ctx) => {
    // The quota must allow the kernel's 1 ms minimum.
    if (flags.share * flags['period-ms'] < 1) {
      ctx.addIssue({ code: 'custom', path: ['share'], message: `share x period-ms must be >= 1 ms (got ${flags.share} x ${flags['period-ms']})` });
    }
  });

/** The parsed flags. */
export type ScaleOptions = Readonly<z.output<typeof flagsSchema>>;

/** Parses argv (without node and the script); throws with one line per bad flag. */
export function parseScaleOptions(argv: readonly string[]): ScaleOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      workers: { type: 'string' },
      only: { type: 'string' },
      share: { type: 'string' },
      'period-ms': { type: 'string' },
      concurrency: { type: 'string' },
      streams: { type: 'string' },
      'exact-requests': { type: 'string' },
      reps: { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`bench:scale: ${z.prettifyError(parsed.error)}`);
  return Object.freeze(parsed.data);
}
