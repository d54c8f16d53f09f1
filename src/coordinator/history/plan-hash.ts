/**
 * The plan hash: sha256 of the resolved plan (as report.json keeps it: units resolved, defaults
 * filled, no secrets) without what does not change what is measured. Two runs with the same hash
 * sent the same workload. Left out: the target (it is the environment fingerprint's: a comparison
 * of two server versions runs one plan against two targets), the `regression:` thresholds and
 * `alerts:` (they judge and tell, they do not measure) and the description.
 */
import type { RunReport } from '../../shared/run-report';
import { canonicalHash } from './canonical-hash';

const NOT_WORKLOAD = new Set(['target', 'regression', 'alerts', 'description']);

export function planHash(report: RunReport): string {
  const plan = (report.resolvedPlan ?? {}) as Record<string, unknown>;
  return canonicalHash(Object.fromEntries(Object.entries(plan).filter(([key]) => !NOT_WORKLOAD.has(key))));
}
