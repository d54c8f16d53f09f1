/**
 * Fuzzing the plan reader through the CLI (issue 8): a few hundred bad plans, generated from a
 * seed by mutating a valid one (wrong types, huge, negative and non-finite numbers, unknown and odd
 * keys, deep nesting, long strings, YAML aliases, broken YAML, binary junk, oversized files,
 * criteria that can never be measured), each given to `grym-perf run --redis ...` in process.
 * Every one must end with exit 2, a message whose every problem names a path, no stack trace, and
 * nothing queued in Redis. Each mutation is invalid by construction: a plan the CLI accepts is a
 * hole in validation (or in the generator), and the failure says which case to look at.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { main } from '../../src/cli/program';
import { createRandom } from '../../src/shared/seeded-random';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// A few hundred plans through the whole CLI, a handful of them near the 1 MiB limit (seconds each
// to parse on a busy 2-core machine): well under a minute, with room.
jest.setTimeout(120_000);

const SEED = 0x8016;
const CASES = 400;

type Json = Record<string, unknown>;
type Key = string | number;

/** A valid plan; `name` comes last, so that any cut of its YAML loses it. */
const basePlan = (): Json => ({
  version: 1,
  seed: 7,
  target: { mock: { models: [{ name: 'small', ttft: '5ms' }, { name: 'large' }] }, requestTimeout: '5s' },
  phases: [
    {
      name: 'baseline',
      scenario: 'requests',
      models: ['small'],
      load: { concurrency: 2, duration: '2s', warmup: '0s' },
      conversation: { turns: 4, promptTokens: 8, maxTokens: 8 },
      memory: { interval: '100ms', leakThreshold: '50MB' },
      stability: { maxErrorRate: '1%' },
      criteria: { 'latency.e2e.p95': '< 1s', 'requests.errorRate': '< 5%' },
    },
    {
      name: 'switch',
      scenario: 'model-switch',
      models: ['small', 'large'],
      switch: { cycles: 2, requestsPerModel: 2 },
      criteria: { 'switch.time.p95': '< 2s' },
    },
  ],
  name: 'fuzz',
});

interface Node {
  path: Key[];
  value: unknown;
}

function nodesOf(value: unknown, path: Key[] = [], out: Node[] = []): Node[] {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((item, index) => nodesOf(item, [...path, index], out));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) nodesOf(item, [...path, key], out);
  return out;
}

function setAt(root: Json, path: Key[], value: unknown): void {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<Key, unknown>)[key], root) as Record<Key, unknown>;
  // defineProperty: a plain assignment of "__proto__" would set the prototype, not a key.
  Object.defineProperty(parent, path.at(-1) as Key, { value, enumerable: true, writable: true, configurable: true });
}

const HUGE = `1${'0'.repeat(400)}`;
const BAD_NUMBERS = [1e300, -1e300, Infinity, -Infinity, NaN, 2 ** 60, -(2 ** 60), 1e9 + 0.5];
const BAD_DURATIONS = [`${HUGE}s`, '-5s', '9999h', '5 parsecs', '', '1e3s', 'Infinity s', '5constructor', `1${' '.repeat(5000)}x`];
const BAD_SIZES = [`${HUGE}MB`, '-5MB', '5 XB', '2000PB', '5toString'];
const BAD_PERCENTS = ['150%', '-1%', `${HUGE}%`, '1 %%', 'NaN%'];
const BAD_CONDITIONS = [`< ${HUGE}s`, '< Infinity s', '<', '~ 1s', '< 1GB', '< 1', `<${' '.repeat(5000)}1${' '.repeat(5000)}x`];
const BAD_NAMES = ['', 'x'.repeat(100_000), 'UPPER CASE', '../../etc/passwd', 'nul\u0000byte'];
const ODD_KEYS = [
  'lod',
  'concurency',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'k'.repeat(10_000),
  'ключ',
  '',
  '0',
  '$ref',
];

interface Case {
  kind: string;
  /** Plan text or raw bytes. */
  content: string | Buffer;
  ext: 'yaml' | 'json';
}

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const asText = (plan: Json): Pick<Case, 'content' | 'ext'> =>
    random() < 0.3 ? { content: JSON.stringify(plan), ext: 'json' } : { content: stringify(plan), ext: 'yaml' };
  const leaves = (plan: Json, type: string) => nodesOf(plan).filter((node) => node.path.length > 0 && typeof node.value === type);
  const containers = (plan: Json) => nodesOf(plan).filter((node) => node.value !== null && typeof node.value === 'object');

  const mutateValue = (): Case => {
    const plan = basePlan();
    const node = pick(nodesOf(plan).filter((candidate) => candidate.path.length > 0));
    const replacements: Record<string, unknown[]> = {
      number: ['12', true, null, [], { a: 1 }],
      string: [42, true, null, ['x'], { x: 1 }],
      boolean: ['yes', 1, null],
      object: Array.isArray(node.value) ? [42, 'x', true, null, {}] : [42, 'x', true, null, []],
    };
    setAt(plan, node.path, pick(replacements[typeof node.value] as unknown[]));
    return { kind: `wrong type at ${node.path.join('.')}`, ...asText(plan) };
  };

  const badNumber = (): Case => {
    const plan = basePlan();
    const node = pick(leaves(plan, 'number'));
    setAt(plan, node.path, pick(BAD_NUMBERS));
    return { kind: `bad number at ${node.path.join('.')}`, ...asText(plan) };
  };

  const badString = (): Case => {
    const plan = basePlan();
    const node = pick(leaves(plan, 'string'));
    const text = node.value as string;
    const pool = /^\d+(ms|s|m|h)$/.test(text)
      ? BAD_DURATIONS
      : /^\d+[KMGT]?i?B$/.test(text)
        ? BAD_SIZES
        : text.endsWith('%')
          ? BAD_PERCENTS
          : /^[<>]/.test(text)
            ? BAD_CONDITIONS
            : BAD_NAMES;
    setAt(plan, node.path, pick(pool));
    return { kind: `bad string at ${node.path.join('.')}`, ...asText(plan) };
  };

  const unknownKey = (): Case => {
    const plan = basePlan();
    const node = pick(containers(plan).filter((candidate) => !Array.isArray(candidate.value)));
    const key = pick(ODD_KEYS);
    setAt(plan, [...node.path, key], pick([1, 'x', {}, null]));
    return { kind: `unknown key ${JSON.stringify(key.slice(0, 20))} at ${node.path.join('.') || '(plan)'}`, ...asText(plan) };
  };

  const manyKeys = (): Case => {
    const plan = basePlan();
    const node = pick(containers(plan).filter((candidate) => !Array.isArray(candidate.value)));
    for (let index = 0; index < 20_000; index++) setAt(plan, [...node.path, `k${index}`], index);
    return { kind: `20,000 unknown keys at ${node.path.join('.') || '(plan)'}`, ...asText(plan) };
  };

  const deepNesting = (): Case => {
    const plan = basePlan();
    const node = pick(nodesOf(plan).filter((candidate) => candidate.path.length > 0));
    const depth = 40 + int(3000);
    const open = random() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
    const marker = '"DEEP-NESTING-HERE"';
    setAt(plan, node.path, 'DEEP-NESTING-HERE');
    // Written as JSON text: building it as an object and stringifying would recurse as deep.
    const content = JSON.stringify(plan).replace(marker, `${open[0]!.repeat(depth)}1${open[1]!.repeat(depth)}`);
    return { kind: `nesting ${depth} deep at ${node.path.join('.')}`, content, ext: 'json' };
  };

  const aliases = (): Case => {
    const yaml = stringify(basePlan());
    const bombs = [
      `lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${['b', 'c', 'd', 'e', 'f', 'g']
        .map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdefg'[index]}`).join(',')}]`)
        .join('\n')}\n`,
      'loop: &loop [*loop, *loop]\n',
      'extra: &t { x: 1 }\nmore: *t\n',
      `name2: *nowhere\n`,
    ];
    return { kind: 'YAML aliases', content: `${pick(bombs)}${yaml}`, ext: 'yaml' };
  };

  const brokenYaml = (): Case => {
    const yaml = stringify(basePlan());
    const lastLine = yaml.lastIndexOf('name: fuzz');
    const breakages: Array<[string, () => string]> = [
      ['cut short', () => yaml.slice(0, int(lastLine))],
      ['a key given twice', () => `${yaml}name: again\n`],
      ['an unclosed list', () => `x: [1, 2\n${yaml}`],
      ['an unclosed quote', () => `x: "abc\n${yaml}`],
      ['a nested compact mapping', () => `x: a: b\n${yaml}`],
      ['two documents', () => `${yaml}---\nname: two\n`],
      ['an alias to nothing', () => yaml.replace('name: fuzz', 'name: *nope')],
      ['a binary tag', () => yaml.replace('name: fuzz', 'name: !!binary aGVsbG8=')],
      ['an empty file', () => ''],
      ['only a comment', () => '# a plan\n'],
      ['a scalar', () => 'just words'],
      ['a list', () => '- a\n- b\n'],
      ['a tab for indentation', () => yaml.replace('\n  ', '\n\t')],
    ];
    const [kind, make] = pick(breakages);
    return { kind: `broken YAML: ${kind}`, content: make(), ext: 'yaml' };
  };

  const binaryJunk = (): Case => {
    const bytes = Buffer.alloc(1 + int(5000));
    for (let index = 0; index < bytes.length; index++) bytes[index] = int(256);
    return { kind: `${bytes.length} bytes of binary junk`, content: bytes, ext: pick(['yaml', 'json'] as const) };
  };

  const tooLarge = (): Case => ({
    kind: 'a file over 1 MiB',
    content: `${stringify(basePlan())}# ${'x'.repeat(1024 * 1024)}\n`,
    ext: 'yaml',
  });

  const unmeasurable = (): Case => {
    const plan = basePlan();
    const [requests] = plan.phases as Json[];
    const [kind, edit] = pick<[string, () => void]>([
      ['switch.time in a requests phase', () => setAt(plan, ['phases', 0, 'criteria', 'switch.time.p95'], '< 1s')],
      ['latency.response in closed loop', () => setAt(plan, ['phases', 0, 'criteria', 'latency.response.p95'], '< 1s')],
      ['context.accuracy without probes', () => setAt(plan, ['phases', 1, 'criteria', 'context.accuracy'], '> 90%')],
      [
        'ttft without streaming',
        () => {
          setAt(plan, ['target', 'stream'], false);
          setAt(plan, ['phases', 0, 'criteria', 'latency.ttft.p95'], '< 1s');
        },
      ],
      ['a duplicate phase name', () => (plan.phases as Json[]).push({ ...requests })],
    ]);
    edit();
    return { kind: `never measured: ${kind}`, ...asText(plan) };
  };

  // Weights: the cheap, varied mutations most; the costly ones (20,000 keys, 1 MiB) a few times.
  const kinds: Array<[number, () => Case]> = [
    [20, mutateValue],
    [15, badNumber],
    [15, badString],
    [15, unknownKey],
    [1, manyKeys],
    [6, deepNesting],
    [6, aliases],
    [12, brokenYaml],
    [5, binaryJunk],
    [0.5, tooLarge],
    [6, unmeasurable],
  ];
  const total = kinds.reduce((sum, [weight]) => sum + weight, 0);
  return (): Case & { category: string } => {
    let draw = random() * total;
    const [, make] = kinds.find(([weight]) => (draw -= weight) < 0) ?? kinds[0]!;
    return { ...make(), category: make.name };
  };
}

// The header, then one line per problem, each starting with where: a path such as
// `phases[0].criteria["latency.e2e.p95"]`, `(plan)`, `syntax:` (then a path or a line), the file's size.
const HEADER = /^error GRYM_ERR_PLAN_INVALID: .+: invalid plan \(\d+ problems?\): fix each:$/;
const QUOTED = String.raw`\["(?:[^"\\]|\\.)*"\]`;
const PATH = String.raw`(?:[\w-]+|${QUOTED})(?:\.[\w-]+|\[\d+\]|${QUOTED})*`;
const PROBLEM = new RegExp(String.raw`^  - (?:syntax: |\(plan\): |the plan is |\.\.\. and [\d,]+ more problem|${PATH}: )`);

let redis: TestRedis;
const dir = mkdtempSync(join(tmpdir(), 'grym-plan-fuzz-'));

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const capture = (...parts: unknown[]) => void lines.push(parts.map(String).join(' '));
  const spies = [jest.spyOn(console, 'log'), jest.spyOn(console, 'error'), jest.spyOn(console, 'warn')];
  for (const spy of spies) spy.mockImplementation(capture);
  try {
    return { code: await main(args), output: lines.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

test('the valid plan the mutations start from is valid', async () => {
  const file = join(dir, 'base.yaml');
  writeFileSync(file, stringify(basePlan()));
  expect(await cli(['validate', file])).toEqual({ code: 0, output: expect.stringContaining('valid plan "fuzz" with 2 phases') });
});

test(`${CASES} generated bad plans: exit 2, every problem names a path, no stack, nothing queued`, async () => {
  const prefix = `fuzz-${process.pid}-${Date.now()}`;
  const next = generator(createRandom(SEED));
  const failures: string[] = [];
  const kinds = new Set<string>();
  const startedMs = Date.now();
  for (let index = 0; index < CASES; index++) {
    const generated = next();
    kinds.add(generated.category);
    const file = join(dir, `case-${index}.${generated.ext}`);
    writeFileSync(file, generated.content);
    const command = index % 5 === 4 ? ['validate', file] : ['run', file, '--redis', redis.url, '--prefix', prefix, '--worker-wait', '1s'];
    const { code, output } = await cli(command);
    const [header = '', ...problems] = output.split('\n');
    const wrong = [
      code === 2 ? undefined : `exit ${code}`,
      HEADER.test(header) ? undefined : 'no plan error header',
      problems.length > 0 ? undefined : 'no problem listed',
      problems.find((line) => !PROBLEM.test(line)),
      output.includes('    at ') || output.includes('.ts:') ? 'a stack trace' : undefined,
    ].filter((problem) => problem !== undefined);
    if (wrong.length > 0) failures.push(`case ${index} (${generated.kind}): ${wrong.join('; ')}\n${output.slice(0, 600)}`);
  }
  const elapsedMs = Date.now() - startedMs;
  expect(failures).toEqual([]);
  // The generator reached every kind of damage (a change to it that loses one shows here).
  expect(kinds.size).toBe(11);
  // Nothing reached Redis: not a job, not a key of this prefix, not a key at all on this server.
  const client = new IORedis(redis.url, { lazyConnect: true });
  try {
    await client.connect();
    expect(await client.keys(`${prefix}*`)).toEqual([]);
    expect(await client.dbsize()).toBe(0);
  } finally {
    client.disconnect();
  }
  // The brief's budget: the whole fuzz in under a minute (a few seconds on a quiet machine).
  expect(elapsedMs).toBeLessThan(60_000);
});
