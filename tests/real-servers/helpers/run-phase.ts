/**
 * Runs one phase of a plan as `grym-perf run` does, through the given executor (the real local
 * executor: worker threads, real targets), and builds its report with the real metrics code.
 */
import { buildPhaseReport } from '../../../src/coordinator/reports/build-run-report';
import { resolveTarget } from '../../../src/coordinator/resolve-target';
import { shardTasks } from '../../../src/coordinator/shard-tasks';
import { readPlan } from '../../../src/shared/parse-plan';
import type { PlanInput } from '../../../src/shared/plan-schema';
import type { PhaseReport } from '../../../src/shared/run-report';
import { mergeShardResults } from '../../../src/shared/shard-result';
import type { ShardExecutor } from '../../../src/shared/shard-task';

let runs = 0;

/** The report of `plan`'s phase `phaseIndex` (plans are written as objects: JSON is YAML). */
export async function runPhase(executor: ShardExecutor, plan: PlanInput, phaseIndex = 0): Promise<PhaseReport> {
  const loaded = readPlan(JSON.stringify(plan), `${plan.name}.json`);
  const phase = loaded.plan.phases[phaseIndex];
  if (!phase) throw new RangeError(`plan ${plan.name} has no phase ${phaseIndex}`);
  const tasks = shardTasks(loaded, phaseIndex, resolveTarget(loaded.plan.target), `real-servers-${++runs}`);
  const merged = mergeShardResults(await executor.runPhase(tasks));
  return buildPhaseReport({ phase, merged, error: null });
}
