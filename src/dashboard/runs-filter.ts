/**
 * The runs list's filters, from its query string (`/runs?plan=nightly&verdict=fail`): what the
 * list's form sends, checked at the edge. An empty field means no filter; anything else that is
 * not a filter's value answers 400, naming the field and what it takes.
 */
import { z } from 'zod';
import { PageError } from './page-error';

/** Where a listed run is: its verdict once it finished, otherwise whether it is still going or failed without a report. */
export const RUN_VERDICTS = ['pass', 'fail', 'running', 'failed'] as const;
export type RunVerdict = (typeof RUN_VERDICTS)[number];

/** The words the form shows for each verdict. */
export const VERDICT_LABELS: Record<RunVerdict, string> = {
  pass: 'passed',
  fail: 'failed its criteria',
  running: 'in progress',
  failed: 'failed without a report',
};

const MAX_PLAN_FILTER_CHARS = 200;

const emptyIsAbsent = (value: unknown) => (value === '' ? undefined : value);

const runsQuerySchema = z.object({
  plan: z.preprocess(
    emptyIsAbsent,
    z
      .string({ error: 'plan must be given once, as text' })
      .max(MAX_PLAN_FILTER_CHARS, `plan must be at most ${MAX_PLAN_FILTER_CHARS} characters`)
      .optional(),
  ),
  verdict: z.preprocess(emptyIsAbsent, z.enum(RUN_VERDICTS, { error: `verdict must be one of ${RUN_VERDICTS.join(', ')}` }).optional()),
});

export interface RunsFilter {
  /** Part of the plan's name, any case. */
  plan?: string;
  verdict?: RunVerdict;
}

/** The filters of a request's query (other parameters are ignored); throws `PageError` 400 when one is malformed. */
export function parseRunsFilter(query: unknown): RunsFilter {
  const parsed = runsQuerySchema.safeParse(query ?? {});
  if (!parsed.success) throw new PageError(400, `bad filter: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  const { plan, verdict } = parsed.data;
  return { ...(plan === undefined ? {} : { plan }), ...(verdict === undefined ? {} : { verdict }) };
}

/** Whether a plan name passes the filter's plan part (checked before a run's verdict is read). */
export function planMatches(filter: RunsFilter, plan: string): boolean {
  return filter.plan === undefined || plan.toLowerCase().includes(filter.plan.toLowerCase());
}

/** Whether a run with this plan name and verdict passes the filter. */
export function matchesFilter(filter: RunsFilter, plan: string, verdict: RunVerdict): boolean {
  return (filter.verdict === undefined || filter.verdict === verdict) && planMatches(filter, plan);
}
