/** Reads a plan file (YAML or JSON) and validates it. */
import { readFile } from 'node:fs/promises';
import { GrymError } from '../shared/errors';
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
  return { plan: validatePlan(input, path), input };
}

export async function loadPlanFile(path: string): Promise<Plan> {
  return (await loadPlanWithInput(path)).plan;
}
