/** Reads a plan file (YAML or JSON) and validates it. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GrymError, PlanInvalidError } from '../shared/errors';
import { readPlanInput, validatePlan } from '../shared/parse-plan';
import type { Plan } from '../shared/plan-schema';

/** The validated plan and the object as written (distributed runs ship phases in that form). */
export async function loadPlanWithInput(path: string): Promise<{ plan: Plan; input: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GrymError('GRYM_ERR_PLAN_UNREADABLE', `cannot read plan file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const input = readPlanInput(text, path);
  const plan = validatePlan(input, path);
  if (plan.target.kind === 'module') {
    const modulePath = resolve(dirname(path), plan.target.module as string);
    if (!existsSync(modulePath)) throw new PlanInvalidError(path, [`target.module: no file at ${modulePath}: give the path of your integration module, relative to the plan file`]);
  }
  return { plan, input };
}

export async function loadPlanFile(path: string): Promise<Plan> {
  return (await loadPlanWithInput(path)).plan;
}
