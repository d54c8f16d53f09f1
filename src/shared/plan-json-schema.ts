import { z } from 'zod';
import { planSchema } from './plan-schema';

/** The plan schema as JSON Schema (what users write: units as strings, defaults optional). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://grym-perf.dev/plan.schema.json',
    title: 'grym-perf test plan',
  };
}
