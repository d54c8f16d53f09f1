/**
 * Plan text (YAML or JSON) -> frozen `Plan`, or a `PlanInvalidError` with one line per problem:
 * the field's path, what is wrong with the value found there, and the fix.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { PlanInvalidError } from './errors';
import { planSchema, type Plan } from './plan-schema';
import { closest } from './suggest';

type Path = ReadonlyArray<PropertyKey>;

/** "phases[1].load.concurrency" */
export function formatPath(path: Path): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    const key = String(part);
    if (!/^[\w-]+$/.test(key)) return `${text}[${JSON.stringify(key)}]`;
    return text ? `${text}.${key}` : key;
  }, '');
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// Walks the schema along a path to list the keys allowed there (for "did you mean" on typos).
function allowedKeysAt(path: Path): string[] {
  let schema: unknown = planSchema;
  const unwrap = (s: unknown): unknown => {
    let current = s as { _zod?: { def?: Record<string, unknown> } };
    for (let guard = 0; guard < 10; guard++) {
      const def = current?._zod?.def;
      if (!def) return current;
      if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable') current = def.innerType as typeof current;
      else if (def.type === 'pipe') current = def.in as typeof current;
      else return current;
    }
    return current;
  };
  for (const part of path) {
    const def = (unwrap(schema) as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'array' && typeof part === 'number') schema = def.element;
    else if (def.type === 'object' && typeof part === 'string') schema = (def.shape as Record<string, unknown>)[part];
    else return [];
  }
  const def = (unwrap(schema) as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const where = formatPath(issue.path) || '(plan)';
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(issue.path);
      return issue.keys.map((key) => {
        const guess = closest(key, allowed);
        const fix = guess ? `did you mean "${guess}"?` : `allowed keys: ${allowed.join(', ')}`;
        return `${formatPath([...issue.path, key])}: unknown key "${key}" (${fix})`;
      });
    }
    case 'invalid_type':
      if (!issue.message.startsWith('Invalid input')) return [`${where}: ${issue.message} (got ${shown(got)})`];
      return [got === undefined ? `${where}: is required (expected ${issue.expected})` : `${where}: must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`} (got ${shown(got)})`];
    case 'too_small':
      return [
        issue.origin === 'array'
          ? `${where}: needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'} (got ${Array.isArray(got) ? got.length : 0})`
          : `${where}: must be >= ${String(issue.minimum)} (got ${shown(got)})`,
      ];
    case 'too_big':
      return [`${where}: must be <= ${String(issue.maximum)} (got ${shown(got)})`];
    case 'invalid_value':
      return [`${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${shown(got)})`];
    case 'invalid_format':
      return [`${where}: ${issue.format === 'regex' ? issue.message : `must be a valid ${issue.format}`} (got ${shown(got)})`];
    case 'invalid_union':
      return [`${where}: ${issue.message} (got ${shown(got)})`];
    default:
      return [`${where}: ${issue.message}`];
  }
}

/** Every problem of a plan, one line each, in document order. */
export function describePlanIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue, input));
}

/** Plan text (YAML, or JSON which is YAML too) -> the object the user wrote, unvalidated. */
export function readPlanInput(text: string, source = 'plan'): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PlanInvalidError(source, document.errors.map((error) => `syntax: ${error.message.split('\n')[0]}`));
  }
  return document.toJS() as unknown;
}

/** Parses and validates plan text; `source` names the file in messages. */
export function parsePlan(text: string, source = 'plan'): Plan {
  return validatePlan(readPlanInput(text, source), source);
}

/** Validates an already-parsed plan object. */
export function validatePlan(input: unknown, source = 'plan'): Plan {
  const result = planSchema.safeParse(input);
  if (!result.success) throw new PlanInvalidError(source, describePlanIssues(result.error, input));
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
