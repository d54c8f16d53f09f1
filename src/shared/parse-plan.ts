/**
 * Plan text (YAML or JSON) -> frozen `Plan`, or a `PlanInvalidError` with one line per problem:
 * the field's path, what is wrong with the value found there, and the fix. Plans may come from
 * anyone who can run the CLI or write to Redis, so reading one is bounded in size, nesting, alias
 * expansion and time (linear in the text), and never throws anything but a plan error.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { describeIssues, moreProblems, MAX_PROBLEMS_LISTED } from './describe-issues';
import { PlanInvalidError } from './errors';
import { planSchema, type Plan } from './plan-schema';

/** A plan is a page of YAML: 1 MiB is a thousand times the shipped ones, and bounds the time and memory of reading it. */
export const MAX_PLAN_BYTES = 1024 * 1024;

/** Nesting deeper than any plan field (target.mock.models[0].name is 5 levels). */
const MAX_DEPTH = 32;

/** Copies that YAML aliases (`*name`) may expand to; a "billion laughs" plan needs millions. */
const MAX_ALIAS_COUNT = 100;

/** A plan as resolved, with the object the user wrote: phases travel to workers in that form. */
export interface LoadedPlan {
  plan: Plan;
  input: unknown;
  /** Where it came from (a path), for messages and reports. */
  source: string;
}

/** The problem line of a plan that is too large: `size` in bytes when known (a special file's is not). */
export function planTooLarge(size?: number): string {
  const limit = `${MAX_PLAN_BYTES.toLocaleString('en-US')} (1 MiB) a plan may be`;
  const what =
    size === undefined ? `the plan is more than the ${limit}` : `the plan is ${size.toLocaleString('en-US')} bytes, more than the ${limit}`;
  return `${what}: give the plan file (YAML or JSON) itself`;
}

function capped(problems: string[]): string[] {
  return problems.length > MAX_PROBLEMS_LISTED
    ? [...problems.slice(0, MAX_PROBLEMS_LISTED), moreProblems(problems.length - MAX_PROBLEMS_LISTED)]
    : problems;
}

interface Visit {
  node: unknown;
  path: string;
  depth: number;
}

/** A key as a path part: `.name`, or `["odd key"]`. */
const keyPart = (key: string) =>
  /^[\w-]{1,60}$/.test(key) ? `.${key}` : `[${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)}]`;

/** The key of a map entry as the plan object will have it, or undefined when it is not a plain scalar. */
function keyText(key: unknown): string | undefined {
  if (key === null || key === undefined) return '';
  if (!isScalar(key)) return undefined;
  return key.value === null ? '' : String(key.value);
}

/**
 * Walks the document once, without recursion (its depth is the attacker's choice): keys must be
 * plain scalars and unique in their map (checked with a set, where the `yaml` package's own check
 * compares every pair: 116,000 keys took 100 s), and nothing nests deeper than MAX_DEPTH.
 */
function structureProblems(document: Document, lines: LineCounter): string[] {
  const problems: string[] = [];
  const lineOf = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lines.linePos(range[0]).line : '?';
  };
  const where = (path: string) => (path.length > 80 ? `${path.slice(0, 77)}...` : path || '(plan)');
  const stack: Visit[] = [{ node: document.contents, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length <= MAX_PROBLEMS_LISTED) {
    const { node, path, depth } = stack.pop() as Visit;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= MAX_DEPTH) {
      problems.push(`syntax: ${where(path)} nests more than ${MAX_DEPTH} levels deep (line ${lineOf(node)}): no plan field is that deep`);
      continue;
    }
    if (isSeq(node)) {
      node.items.forEach((item, index) => stack.push({ node: item, path: `${path}[${index}]`, depth: depth + 1 }));
      continue;
    }
    const seen = new Map<string, unknown>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      if (key === undefined) {
        const what = isAlias(pair.key) ? 'an alias' : 'a list or map';
        problems.push(`syntax: ${where(path)} has a key that is ${what} (line ${lineOf(pair.key)}): keys are names`);
        continue;
      }
      const childPath = path ? `${path}${keyPart(key)}` : keyPart(key).replace(/^\./, '');
      if (seen.has(key)) {
        problems.push(`syntax: ${where(childPath)} is given twice (lines ${lineOf(seen.get(key))} and ${lineOf(pair.key)}): keep one`);
        continue;
      }
      seen.set(key, pair.key);
      stack.push({ node: pair.value as Node, path: childPath, depth: depth + 1 });
    }
  }
  return problems;
}

/** The JS value of a checked document; an alias bomb or an alias to nothing is a plan error. */
function toPlainValue(document: Document, source: string): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const problem = /alias count/i.test(message)
      ? `syntax: YAML aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies: write the values out, or use fewer aliases`
      : `syntax: ${syntaxMessage(message)}: fix the YAML`;
    throw new PlanInvalidError(source, [problem]);
  }
}

/** The first line of a YAML error, cut short; the parser's stack overflow on deep nesting said in words. */
function syntaxMessage(message: string): string {
  const first = (message.split('\n')[0] ?? '').slice(0, 200);
  return first
    .replace(/^Maximum call stack size exceeded/, `the plan nests too deep (no plan field is more than ${MAX_DEPTH} levels deep)`)
    .replace(
      /^Source contains multiple documents; please use YAML.parseAllDocuments\(\)/,
      'a second YAML document (---) begins: a plan is one',
    );
}

/** Plan text (YAML, or JSON which is YAML too) -> the object the user wrote, unvalidated. */
export function readPlanInput(text: string, source = 'plan'): unknown {
  // Characters are never more than UTF-8 bytes: a longer text is a larger file.
  if (text.length > MAX_PLAN_BYTES) throw new PlanInvalidError(source, [planTooLarge(Buffer.byteLength(text))]);
  const lines = new LineCounter();
  // uniqueKeys off: `structureProblems` checks them in linear time. logLevel "error": no process warnings.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines, logLevel: 'error' });
  if (document.errors.length > 0) {
    throw new PlanInvalidError(source, capped(document.errors.map((error) => `syntax: ${syntaxMessage(error.message)}`)));
  }
  if (document.contents === null) throw new PlanInvalidError(source, ['syntax: the plan is empty: write a plan (see test-plans/)']);
  const problems = structureProblems(document, lines);
  if (problems.length > 0) throw new PlanInvalidError(source, capped(problems));
  return toPlainValue(document, source);
}

/** Validates an already-parsed plan object. */
export function validatePlan(input: unknown, source = 'plan'): Plan {
  const result = planSchema.safeParse(input);
  if (!result.success) throw new PlanInvalidError(source, describeIssues(result.error, input, planSchema));
  return deepFreeze(result.data);
}

/** Parses and validates plan text; `source` names the file in messages. */
export function readPlan(text: string, source = 'plan'): LoadedPlan {
  const input = readPlanInput(text, source);
  return { plan: validatePlan(input, source), input, source };
}

/** Parses and validates plan text into the resolved plan alone. */
export function parsePlan(text: string, source = 'plan'): Plan {
  return readPlan(text, source).plan;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
