/**
 * Kept runs for history tests, made from a real sample report: each a run of plan "smoke" an hour
 * after the previous one, with the e2e p95 (and the machine, the generator's verdict, an
 * interruption, a `regression:` block) the test asks for.
 */
import { buildHistoryEntry, type HistoryEntry } from '../../src/coordinator/history';
import { sampleStandardNormal } from '../../src/coordinator/statistics';
import type { RegressionThreshold } from '../../src/shared/regression-schema';
import { createRandom } from '../../src/shared/seeded-random';
import { singleWindowSampleReport } from './sample-report';

const HOUR_MS = 3_600_000;
const START_MS = Date.UTC(2026, 10, 1);

export interface KeptRunSpec {
  e2eP95Ms: number;
  /** Run id prefix, "smoke-run" by default: runs of another machine get their own. */
  name?: string;
  host?: string;
  untrusted?: boolean;
  aborted?: boolean;
  regression?: Record<string, RegressionThreshold>;
}

/** Run `smoke-run-NN` (or `NAME-NN`) of plan "smoke", started `index` hours after 2026-11-01, as `spec` says. */
export function keptRun(index: number, spec: KeptRunSpec): HistoryEntry {
  const report = singleWindowSampleReport();
  report.runId = `${spec.name ?? 'smoke-run'}-${String(index).padStart(2, '0')}`;
  report.startedAt = new Date(START_MS + index * HOUR_MS).toISOString();
  report.aborted = spec.aborted === true;
  const phase = report.phases[0]!;
  phase.metrics.latency.e2e = { ...phase.metrics.latency.e2e!, p95: spec.e2eP95Ms };
  if (spec.host) report.workers = report.workers.map((worker) => ({ ...worker, host: spec.host! }));
  if (spec.untrusted) {
    phase.metrics.generator = { ...phase.metrics.generator, trustworthy: false, cause: 'machine', warnings: ['the machine was busy'] };
  }
  if (spec.regression) report.resolvedPlan = { ...report.resolvedPlan!, regression: spec.regression };
  return buildHistoryEntry(report, []);
}

/** 20 runs on host-0: e2e p95 ~100 ms with 3 % Gaussian noise (seeded), stepping to ~120 ms at run 12. */
export function steppedHistory(): HistoryEntry[] {
  const uniform = createRandom(11);
  return Array.from({ length: 20 }, (_, index) =>
    keptRun(index, { e2eP95Ms: (index < 12 ? 100 : 120) * (1 + 0.03 * sampleStandardNormal(uniform)) }),
  );
}
