/**
 * zod issues -> one line per problem for people: the field's path, what is wrong with the value
 * found there, and the fix. Unknown keys get a "did you mean", or, when the key belongs to another
 * variant (`keepAlive` on an OpenAI target), the variant it belongs to.
 */
import { z } from 'zod';
import { closest } from './suggest';

type Path = ReadonlyArray<PropertyKey>;
type Def = Record<string, unknown> & { type: string };
type Schema = { _zod: { def: Def } };

/** The most problems listed: a hostile plan can hold a hundred thousand, and the first ones show what is wrong. */
export const MAX_PROBLEMS_LISTED = 50;

/** A key as messages show it: cut short, since a key may be a megabyte long. */
function shownKey(key: string): string {
  return key.length > 60 ? `${key.slice(0, 57)}...` : key;
}

/** "phases[1].load.concurrency" */
function formatPath(path: Path): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    const key = shownKey(String(part));
    if (!/^[\w-]+$/.test(key)) return `${text}[${JSON.stringify(key)}]`;
    return text ? `${text}.${key}` : key;
  }, '');
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

const plural = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

const SHOWN_CHARS = 60;

/**
 * Writes `value` as JSON-like text into `out` until it holds `budget` characters: plan values may
 * be megabytes long, nested thousands deep or cyclic (YAML aliases), so nothing is written whole.
 */
function preview(value: unknown, out: string[], budget: { left: number }): void {
  const put = (text: string) => {
    out.push(text);
    budget.left -= text.length;
  };
  if (budget.left <= 0) return;
  if (typeof value === 'string') return put(JSON.stringify(value.length > budget.left ? value.slice(0, budget.left) : value));
  if (typeof value === 'number' || typeof value === 'bigint') return put(String(value));
  if (value === null || typeof value !== 'object') return put(String(value));
  const entries: Array<[string | undefined, unknown]> = Array.isArray(value)
    ? value.slice(0, budget.left).map((item) => [undefined, item])
    : Object.keys(value)
        .slice(0, budget.left)
        .map((key) => [key, (value as Record<string, unknown>)[key]]);
  put(Array.isArray(value) ? '[' : '{');
  entries.forEach(([key, item], index) => {
    if (budget.left <= 0) return;
    if (index > 0) put(',');
    if (key !== undefined) put(`${JSON.stringify(shownKey(key))}:`);
    preview(item, out, budget);
  });
  put(Array.isArray(value) ? ']' : '}');
}

/** A value for messages: short JSON-like text, whatever the value's size, depth or cycles. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const out: string[] = [];
  preview(value, out, { left: SHOWN_CHARS + 1 });
  const text = out.join('');
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text;
}

/** "a number", "an object", "a list". */
function expectedType(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'number') return 'a finite number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** zod's own message ("Too big: expected ..."), or one the schema wrote (the bound's reason). */
const ownMessage = (message: string) => (/^(Too big|Too small|Invalid|Expected)/.test(message) ? '' : `: ${message}`);

const bound = (value: unknown) => (typeof value === 'number' || typeof value === 'bigint' ? value.toLocaleString('en-US') : String(value));

/** Looks through defaults, optionals and transforms to the schema that checks the value. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (let guard = 0; guard < 10; guard++) {
    const def = current._zod.def;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable')
      current = def.innerType as Schema;
    else if (def.type === 'pipe') current = def.in as Schema;
    else return current;
  }
  return current;
}

const shapeOf = (schema: Schema): Record<string, Schema> => (unwrap(schema)._zod.def.shape as Record<string, Schema> | undefined) ?? {};

/** The value a variant's discriminator takes (its literal, default included). */
function discriminatorValue(option: Schema, discriminator: string): unknown {
  const field = shapeOf(option)[discriminator];
  return field ? (unwrap(field)._zod.def.values as unknown[] | undefined)?.[0] : undefined;
}

/** The variants of a discriminated union: the one the input chose (by its discriminator, or the defaulted one) first. */
function variants(schema: Schema, input: unknown): Array<{ option: Schema; value: unknown }> | undefined {
  const def = unwrap(schema)._zod.def;
  if (def.type !== 'union' || typeof def.discriminator !== 'string') return undefined;
  const discriminator = def.discriminator;
  const chosen = (input as Record<string, unknown> | undefined)?.[discriminator];
  const all = (def.options as Schema[]).map((option) => ({ option, value: discriminatorValue(option, discriminator) }));
  const hit = all.find((variant) => variant.value === chosen) ?? all[0];
  return hit ? [hit, ...all.filter((variant) => variant !== hit)] : all;
}

/** The schema at a path, following the variant the input chose at each union. */
function schemaAt(root: Schema, path: Path, input: unknown): Schema | undefined {
  let schema = root;
  for (const [depth, part] of path.entries()) {
    schema = variants(schema, valueAt(input, path.slice(0, depth)))?.[0]?.option ?? schema;
    const def = unwrap(schema)._zod.def;
    if (def.type === 'array' && typeof part === 'number') schema = def.element as Schema;
    else if (def.type === 'object' && typeof part === 'string' && Object.hasOwn(shapeOf(schema), part))
      schema = shapeOf(schema)[part] as Schema;
    else return undefined;
  }
  return schema;
}

function unknownKey(root: Schema, path: Path, key: string, input: unknown): string {
  const here = schemaAt(root, path, input);
  const options = here ? variants(here, valueAt(input, path)) : undefined;
  const chosen = options?.[0]?.option ?? here;
  const allowed = chosen ? Object.keys(shapeOf(chosen)) : [];
  const elsewhere = options?.slice(1).filter((variant) => Object.hasOwn(shapeOf(variant.option), key));
  const discriminator = here ? (unwrap(here)._zod.def.discriminator as string | undefined) : undefined;
  let fix: string;
  if (elsewhere && elsewhere.length > 0 && discriminator) {
    const kinds = elsewhere.map((variant) => `"${String(variant.value)}"`).join(' or ');
    fix = `applies to ${discriminator} ${kinds} only: remove it, or set ${discriminator}: ${String(elsewhere[0]?.value)}`;
  } else {
    const guess = closest(key, allowed);
    fix = guess ? `did you mean "${guess}"?` : `allowed keys: ${allowed.join(', ')}`;
  }
  return `${formatPath([...path, key])}: unknown key ${JSON.stringify(shownKey(key))} (${fix})`;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, root: Schema): string[] {
  const where = formatPath(issue.path) || '(plan)';
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(root, issue.path, key, input));
    case 'invalid_type':
      if (!issue.message.startsWith('Invalid input')) return [`${where}: ${issue.message} (got ${shown(got)})`];
      return [
        got === undefined
          ? `${where}: is required (expected ${issue.expected})`
          : `${where}: must be ${expectedType(issue.expected)} (got ${shown(got)})`,
      ];
    case 'too_small':
      if (issue.origin === 'array')
        return [`${where}: needs at least ${plural(Number(issue.minimum), 'item')} (got ${Array.isArray(got) ? got.length : 0})`];
      if (issue.origin === 'string') return [`${where}: must not be empty`];
      return [`${where}: must be >= ${bound(issue.minimum)} (got ${shown(got)})${ownMessage(issue.message)}`];
    case 'too_big': {
      const why = ownMessage(issue.message);
      if (issue.origin === 'array')
        return [`${where}: has ${plural(Array.isArray(got) ? got.length : 0, 'item')}, more than ${bound(issue.maximum)}${why}`];
      if (issue.origin === 'string') {
        const length = typeof got === 'string' ? got.length : 0;
        return [`${where}: has ${plural(length, 'character')}, more than ${bound(issue.maximum)}${why}`];
      }
      return [`${where}: must be <= ${bound(issue.maximum)} (got ${shown(got)})${why}`];
    }
    case 'invalid_value':
      return [`${where}: must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')} (got ${shown(got)})`];
    case 'invalid_format':
      return [`${where}: ${issue.format === 'regex' ? issue.message : `must be a valid ${issue.format}`} (got ${shown(got)})`];
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options?.filter((option) => option !== undefined && option !== null);
      if ((issue as { discriminator?: string }).discriminator && options) {
        return [`${where}: must be one of ${options.map((option) => JSON.stringify(option)).join(', ')} (got ${shown(got)})`];
      }
      return describeUnion(issue, where, got, input, root);
    }
    default:
      return [`${where}: ${issue.message}`];
  }
}

/**
 * A value that matched no form of a plain union (a fraction: a number or a percentage): the form of
 * the value's own type says what is wrong with it; failing that, the forms are named.
 */
function describeUnion(issue: z.core.$ZodIssueInvalidUnion, where: string, got: unknown, input: unknown, root: Schema): string[] {
  const sameType = issue.errors.find((branch) => branch.length > 0 && branch.every((inner) => inner.code !== 'invalid_type'));
  if (sameType) return sameType.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] }, input, root));
  const forms = issue.errors.flatMap((branch) => branch.filter((inner) => inner.code === 'invalid_type').map((inner) => inner.expected));
  if (forms.length === 0) return [`${where}: ${issue.message} (got ${shown(got)})`];
  return [`${where}: must be ${[...new Set(forms)].map(expectedType).join(' or ')} (got ${shown(got)})`];
}

/** How many lines an issue describes, without describing it. */
const lineCount = (issue: z.core.$ZodIssue) => (issue.code === 'unrecognized_keys' ? issue.keys.length : 1);

/**
 * The problems found by `root` in `input`, one line each, in document order: the first
 * `MAX_PROBLEMS_LISTED`, then how many more there are. Linear in the number of issues.
 */
export function describeIssues(error: z.ZodError, input: unknown, root: z.ZodType): string[] {
  const lines: string[] = [];
  let total = 0;
  for (const issue of error.issues) {
    const count = lineCount(issue);
    total += count;
    if (lines.length >= MAX_PROBLEMS_LISTED) continue;
    // Only the keys that will be listed are described: each gets a "did you mean", which costs time.
    const listed = issue.code === 'unrecognized_keys' ? { ...issue, keys: issue.keys.slice(0, MAX_PROBLEMS_LISTED - lines.length) } : issue;
    lines.push(...describeIssue(listed, input, root as unknown as Schema).slice(0, MAX_PROBLEMS_LISTED - lines.length));
  }
  return total > lines.length ? [...lines, moreProblems(total - lines.length)] : lines;
}

/** The line that stands for the problems not listed. */
export function moreProblems(count: number): string {
  return `... and ${plural(count, 'more problem')}, not listed: fix the ones above first`;
}
