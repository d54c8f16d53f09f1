/**
 * The test plan: the one schema for what a user writes (YAML or JSON). Every threshold is data here,
 * never a constant in code. `PlanInput` is what the user writes; `Plan` is the resolved value with
 * units parsed (milliseconds, bytes, fractions; field names say which) and defaults filled in.
 */
import { z } from 'zod';
import { alertsSchema } from './alerts-schema';
import { parseCriterion, unmeasurableReason, type MeasuringSetup } from './criteria';
import { METRICS } from './phase-metrics';
import { phaseSchema, type Phase } from './phase-schema';
import { planName, PLAN_LIMITS } from './plan-units';
import { regressionSchema } from './regression-schema';
import { mockOf, targetSchema, type Target } from './target-schema';

const planFields = z.strictObject({
  version: z.literal(1).default(1).describe('Plan format version.'),
  name: planName('tdr-011').describe('Plan name, used in reports and run ids.'),
  description: z.string().optional(),
  seed: z.number().int().default(1).describe('Seed of every generated prompt, fact and schedule: the same seed sends the same requests.'),
  target: targetSchema,
  phases: z.array(phaseSchema).min(1).max(PLAN_LIMITS.listItems).describe('Phases, run one after the other.'),
  alerts: alertsSchema.optional(),
  regression: regressionSchema.optional(),
});

type RefineContext = z.RefinementCtx<z.output<typeof planFields>>;

function checkPhaseNames(phases: readonly Phase[], ctx: RefineContext): void {
  const seen = new Set<string>();
  phases.forEach((phase, index) => {
    if (seen.has(phase.name))
      ctx.addIssue({
        code: 'custom',
        path: ['phases', index, 'name'],
        message: `"${phase.name}" is used by an earlier phase: phase names must be unique`,
      });
    seen.add(phase.name);
  });
}

function checkServedModels(phases: readonly Phase[], target: Target, ctx: RefineContext): void {
  const served = mockOf(target)?.models.map((model) => model.name);
  if (!served) return;
  phases.forEach((phase, index) => {
    phase.models.forEach((model, modelIndex) => {
      if (!served.includes(model)) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', index, 'models', modelIndex],
          message: `"${model}" is not served by target.mock (it serves ${served.join(', ')})`,
        });
      }
    });
  });
}

/** Criteria on metrics that this phase and target can never measure (a switch time without switches...). */
function checkMeasurable(phases: readonly Phase[], target: Target, ctx: RefineContext): void {
  const measuredTarget: MeasuringSetup['target'] =
    target.kind === 'module'
      ? { kind: 'module', stream: false, memorySource: 'thread-heap', mock: false }
      : { kind: target.kind, stream: target.stream, memorySource: target.memory.source, mock: target.mock !== undefined };
  phases.forEach((phase, index) => {
    const setup: MeasuringSetup = {
      scenario: phase.scenario,
      loadMode: phase.load.mode,
      contextFacts: phase.context.facts,
      target: measuredTarget,
    };
    for (const criterion of phase.criteria) {
      const reason = unmeasurableReason(criterion.metric, setup);
      if (reason) ctx.addIssue({ code: 'custom', path: ['phases', index, 'criteria', criterion.metric], message: reason });
    }
  });
}

/**
 * Criteria on target memory in the unit its source reads (`target.memory.unit`): a phase alone
 * cannot tell whether "< 90%" is right, the plan can.
 */
function inTargetMemoryUnit(plan: z.output<typeof planFields>, ctx: z.RefinementCtx): z.output<typeof planFields> {
  const unit = plan.target.kind !== 'module' && plan.target.memory.source === 'prometheus' ? plan.target.memory.unit : 'bytes';
  const phases = plan.phases.map((phase, index) => {
    const criteria = phase.criteria.map((criterion) => {
      if (!METRICS[criterion.metric]?.inTargetMemoryUnit || criterion.kind === unit) return criterion;
      const parsed = parseCriterion(criterion.metric, criterion.text, unit);
      if (!('error' in parsed)) return parsed;
      const message = `${parsed.error}: target memory is read in ${unit} here (target.memory.unit: ${unit})`;
      ctx.addIssue({ code: 'custom', path: ['phases', index, 'criteria', criterion.metric], message });
      return criterion;
    });
    return { ...phase, criteria };
  });
  return { ...plan, phases };
}

export const planSchema = planFields
  .superRefine((plan, ctx) => {
    checkPhaseNames(plan.phases, ctx);
    checkServedModels(plan.phases, plan.target, ctx);
    checkMeasurable(plan.phases, plan.target, ctx);
  })
  .transform(inTargetMemoryUnit);

export type PlanInput = z.input<typeof planSchema>;
export type Plan = z.output<typeof planSchema>;
