import type { LeakVerdict } from '../../shared/phase-metrics';
import { formatValue, type TargetMemoryUnit } from '../../shared/units';

/** A memory trend per minute in the readings' unit ("+12.0 MB/min"); null without enough samples for one. */
export function trendPerMinute({ slopeBytesPerSecond: slope }: LeakVerdict, unit: TargetMemoryUnit = 'bytes'): string | null {
  if (slope === null) return null;
  return `${slope >= 0 ? '+' : '-'}${formatValue(unit, Math.abs(slope) * 60)}/min`;
}

/** What a trend that is not a leak says: none, or none judged (a ratio or count has no byte threshold). */
export function noLeakWords(verdict: LeakVerdict): string {
  return verdict.verdict === 'not-bytes' ? 'not judged as a leak: the readings are not bytes' : 'no leak';
}
