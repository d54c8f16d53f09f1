/**
 * The few plan settings report.html draws beside the metrics (the leak threshold, the generator's
 * lag limit, the warm-up), read from the report's `resolvedPlan`. That field is typed `unknown`
 * (a report may come from another version), so each setting is read leniently: missing or odd
 * values give null, and the chart goes without that line.
 */
import { z } from 'zod';

const optionalNumber = z.number().nullable().catch(null);

const phaseSchema = z.object({
  name: z.string(),
  description: z.string().nullable().catch(null),
  load: z.object({ warmupMs: optionalNumber }).catch({ warmupMs: null }),
  memory: z.object({ leakThresholdBytes: optionalNumber }).catch({ leakThresholdBytes: null }),
  generator: z.object({ maxEventLoopLagMs: optionalNumber }).catch({ maxEventLoopLagMs: null }),
});

const planSchema = z.object({ phases: z.array(z.unknown()).catch([]) }).catch({ phases: [] });

export interface PhaseSettings {
  description: string | null;
  /** Warm-up before the measured part: memory samples before it are not judged. */
  warmupMs: number | null;
  /** Growth along the trend that counts as a leak. */
  leakThresholdBytes: number | null;
  /** The plan's limit on the generator's event-loop lag (p99). */
  maxEventLoopLagMs: number | null;
}

const NONE: PhaseSettings = { description: null, warmupMs: null, leakThresholdBytes: null, maxEventLoopLagMs: null };

/** The settings of the phase named `phaseName` in a resolved plan; nulls for what is not there. */
export function phaseSettings(resolvedPlan: unknown, phaseName: string): PhaseSettings {
  for (const candidate of planSchema.parse(resolvedPlan).phases) {
    const parsed = phaseSchema.safeParse(candidate);
    if (!parsed.success || parsed.data.name !== phaseName) continue;
    const { description, load, memory, generator } = parsed.data;
    return {
      description,
      warmupMs: load.warmupMs,
      leakThresholdBytes: memory.leakThresholdBytes,
      maxEventLoopLagMs: generator.maxEventLoopLagMs,
    };
  }
  return NONE;
}
