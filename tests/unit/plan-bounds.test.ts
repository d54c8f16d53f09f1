/**
 * Hostile and impossible plans (issue 8, items 16 and 17): every number finite and bounded, the
 * file, its nesting and its aliases bounded, every key judged (`__proto__` too), problems listed in
 * linear time and capped, and criteria that can never be measured rejected, each with a message
 * that names the field and the bound or the fix, from `validate` and `run` alike (exit 2, no stack).
 */
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { main } from '../../src/cli/program';
import { loadPlan } from '../../src/coordinator/load-plan';
import { MAX_PROBLEMS_LISTED } from '../../src/shared/describe-issues';
import { PlanInvalidError } from '../../src/shared/errors';
import { MAX_PLAN_BYTES, parsePlan, readPlanInput } from '../../src/shared/parse-plan';

// Plans under test are loose JSON on purpose: the point is to write what the schema rejects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const validPlan = (): Json => ({
  name: 'demo',
  target: { mock: { models: [{ name: 'small' }, { name: 'large' }] } },
  phases: [
    {
      name: 'baseline',
      scenario: 'requests',
      models: ['small'],
      load: { concurrency: 2, duration: '5s' },
      criteria: { 'latency.e2e.p95': '< 1s' },
    },
  ],
});

const phase = (plan: Json): Json => plan.phases[0];
const switchPhase = (plan: Json): Json => Object.assign(phase(plan), { scenario: 'model-switch', models: ['small', 'large'], load: {} });
const httpTarget = (plan: Json, fields: Json = {}) => (plan.target = { baseUrl: 'http://127.0.0.1:9/v1', ...fields });

function problemsOfText(text: string): string[] {
  try {
    parsePlan(text, 'plan.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInvalidError);
    return (error as PlanInvalidError).problems;
  }
  throw new Error('plan was accepted');
}

const problemsOf = (edit: (plan: Json) => void) => {
  const plan = validPlan();
  edit(plan);
  return problemsOfText(stringify(plan));
};

const accepts = (edit: (plan: Json) => void) => {
  const plan = validPlan();
  edit(plan);
  return parsePlan(stringify(plan), 'plan.yaml');
};

const huge = `1${'0'.repeat(400)}`;

// Item 16: one row per unbounded number the issue found, and its neighbours.
const outOfBounds: Array<[string, (plan: Json) => void, string]> = [
  ['promptTokens 1e9', (p) => (phase(p).conversation = { promptTokens: 1e9 }), 'phases[0].conversation.promptTokens: must be <= 1,000,000'],
  ['maxTokens 1e9', (p) => (phase(p).conversation = { maxTokens: 1e9 }), 'phases[0].conversation.maxTokens: must be <= 1,000,000'],
  ['concurrency 1e9', (p) => (phase(p).load.concurrency = 1e9), 'phases[0].load.concurrency: must be <= 100,000 (got 1000000000)'],
  ['a 400-digit duration', (p) => (phase(p).load.duration = `${huge}s`), 'phases[0].load.duration: must be at most 168h (got "1000'],
  ['switch.cycles 1e9', (p) => (switchPhase(p).switch = { cycles: 1e9 }), 'phases[0].switch.cycles: must be <= 10,000 (got 1000000000)'],
  ['requestTimeout above 2^31 ms', (p) => (p.target.requestTimeout = '600h'), 'target.requestTimeout: must be at most 1h (got "600h")'],
  ['requestTimeout 0s', (p) => (p.target.requestTimeout = '0s'), 'target.requestTimeout: must be at least 1ms (got "0s")'],
  ['"< Infinity" as a threshold', (p) => (phase(p).criteria = { 'latency.e2e.p95': `< ${huge}s` }), 'is too large to compare with'],
  ['timeLimit over a week', (p) => (phase(p).timeLimit = '169h'), 'phases[0].timeLimit: must be at most 168h (got "169h")'],
  ['warmup over a week', (p) => (phase(p).load.warmup = '200h'), 'phases[0].load.warmup: must be at most 168h'],
  [
    'a memory interval of 1 ms',
    (p) => (phase(p).memory = { interval: '1ms' }),
    'phases[0].memory.interval: must be at least 10ms (got "1ms")',
  ],
  ['a stability window of 0 s', (p) => (phase(p).stability = { window: '0s' }), 'phases[0].stability.window: must be at least 10ms'],
  [
    'an open-loop rate of 1e300',
    (p) => Object.assign(phase(p).load, { mode: 'open', rate: 1e300 }),
    'phases[0].load.rate: must be <= 1,000,000',
  ],
  [
    'Infinity turns (YAML .inf)',
    (p) => (phase(p).conversation = { turns: Infinity }),
    'phases[0].conversation.turns: must be a finite number (got Infinity)',
  ],
  ['NaN facts (YAML .nan)', (p) => (phase(p).context = { facts: NaN }), 'phases[0].context.facts: must be a finite number (got NaN)'],
  ['turns 1e6', (p) => (phase(p).conversation = { turns: 1e6 }), 'phases[0].conversation.turns: must be <= 10,000'],
  [
    'requestsPerModel 1e9',
    (p) => (switchPhase(p).switch = { requestsPerModel: 1e9 }),
    'phases[0].switch.requestsPerModel: must be <= 10,000',
  ],
  ['shards 1e9', (p) => (phase(p).shards = 1e9), 'phases[0].shards: must be <= 10,000'],
  ['load.requests 1e300', (p) => (phase(p).load.requests = 1e300), 'phases[0].load.requests: must be <= 1,000,000,000,000'],
  ['a 1e9-token context window', (p) => (p.target.mock.models[0].contextWindowTokens = 1e9), 'contextWindowTokens: must be <= 10,000,000'],
  ['1e9 reasoning tokens', (p) => (p.target.mock.models[0].reasoningTokens = 1e9), 'reasoningTokens: must be <= 1,000,000'],
  ['tokensPerSecond 1e-300', (p) => (p.target.mock.models[0].tokensPerSecond = 1e-300), 'tokensPerSecond: must be >= 0.01'],
  ['a mock ttft of 10,000 h', (p) => (p.target.mock.models[0].ttft = '10000h'), 'target.mock.models[0].ttft: must be at most 168h'],
  ['a 2 GB response cap', (p) => (p.target.maxResponseBytes = '2GB'), 'target.maxResponseBytes: must be at most 256MiB (got "2GB")'],
  ['a memory pid past pid_max', (p) => httpTarget(p, { memory: { source: 'pid', pid: 1e12 } }), 'target.memory.pid: must be <= 4,194,304'],
  [
    'abort after 1e300 failures',
    (p) => (phase(p).abort = { consecutiveFailures: 1e300 }),
    'phases[0].abort.consecutiveFailures: must be <= 1,000,000',
  ],
  ['a seed past 2^53', (p) => (p.seed = 2 ** 60), 'seed: must be <= 9,007,199,254,740,991'],
  [
    'a conversation history beyond any context window',
    (p) => (phase(p).conversation = { turns: 10_000, promptTokens: 100_000 }),
    'phases[0].conversation: grows a conversation to 1,000,320,000 words of history',
  ],
  [
    'ten million memory samples',
    (p) => Object.assign(phase(p), { load: { concurrency: 1, requests: 10 }, timeLimit: '100h', memory: { interval: '10ms' } }),
    'phases[0].memory.interval: makes 36,000,000 memory samples',
  ],
  [
    'a 5,000-character plan name',
    (p) => (p.name = 'x'.repeat(5000)),
    'name: has 5,000 characters, more than 100: it goes into run ids and file names',
  ],
  ['10,000 phases', (p) => (p.phases = Array.from({ length: 10_000 }, () => ({}))), 'phases: has 10,000 items, more than 1,000'],
  [
    'a unit named like an Object property',
    (p) => (phase(p).load.duration = '5constructor'),
    'phases[0].load.duration: must be a duration with a unit',
  ],
];

// Item 17: criteria that this phase and target can never measure.
const unmeasurable: Array<[string, (plan: Json) => void, string]> = [
  [
    'switch.time in a requests phase',
    (p) => (phase(p).criteria = { 'switch.time.p95': '< 2s' }),
    'phases[0].criteria["switch.time.p95"]: can never be measured here: only scenario "model-switch" switches models',
  ],
  ['switch.penalty in a requests phase', (p) => (phase(p).criteria = { 'switch.penalty': '< 2s' }), 'only scenario "model-switch"'],
  [
    'switch.loadTime from an OpenAI-compatible target',
    (p) => (switchPhase(p).criteria = { 'switch.loadTime.p95': '< 2s' }),
    `phases[0].criteria["switch.loadTime.p95"]: can never be measured here: only Ollama's native API reports model load times`,
  ],
  [
    'latency.response in closed loop',
    (p) => (phase(p).criteria = { 'latency.response.p95': '< 2s' }),
    'phases[0].criteria["latency.response.p95"]: can never be measured here: ' +
      'it is measured from scheduled arrivals, which only open-loop load has (this phase is closed-loop)',
  ],
  ['load.dropped in closed loop', (p) => (phase(p).criteria = { 'load.dropped': '< 1' }), 'which only open-loop load has'],
  [
    'load.schedulingLag in a model-switch phase',
    (p) => (switchPhase(p).criteria = { 'load.schedulingLag.p99': '< 10ms' }),
    'which only open-loop load has (this phase is a model-switch phase)',
  ],
  [
    'latency.ttft without streaming',
    (p) => {
      p.target.stream = false;
      phase(p).criteria = { 'latency.ttft.p95': '< 1s' };
    },
    'phases[0].criteria["latency.ttft.p95"]: can never be measured here: it needs streamed chunks, and target.stream is false',
  ],
  [
    'latency.itl from a module target',
    (p) => {
      p.target = { kind: 'module', module: './chat.js' };
      phase(p).criteria = { 'latency.itl.p99': '< 100ms' };
    },
    'phases[0].criteria["latency.itl.p99"]: can never be measured here: ' +
      'it needs streamed chunks, and a module target returns whole answers',
  ],
  [
    'memory.target without a memory source',
    (p) => {
      httpTarget(p);
      phase(p).criteria = { 'memory.target.peak': '< 14GB' };
    },
    'phases[0].criteria["memory.target.peak"]: can never be measured here: target.memory.source is "none"',
  ],
  [
    'context.preservation without probes',
    (p) => (phase(p).criteria = { 'context.preservation': '> 95%' }),
    'phases[0].criteria["context.preservation"]: can never be measured here: context.facts is 0',
  ],
  [
    'context.accuracy outside model-switch',
    (p) => {
      phase(p).context = { facts: 2 };
      phase(p).criteria = { 'context.accuracy': '> 90%' };
    },
    'phases[0].criteria["context.accuracy"]: can never be measured here: only scenario "model-switch" switches models',
  ],
  [
    'duplicate phase names (three phases)',
    (p) => p.phases.push({ ...phase(p), name: 'other' }, { ...phase(p) }),
    'phases[2].name: "baseline" is used by an earlier phase',
  ],
  [
    'a grym-perf variable as the API key',
    (p) => httpTarget(p, { apiKeyEnv: 'GRYM_REDIS_URL' }),
    'target.apiKeyEnv: names a grym-perf setting (GRYM_*), which is never sent to a target',
  ],
];

describe('plan bounds', () => {
  test.each(outOfBounds)('rejects %s', (_name, edit, expected) => {
    expect(problemsOf(edit)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  test('the largest values a real plan uses are accepted', () => {
    const plan = accepts((p) => {
      Object.assign(phase(p), { timeLimit: '168h', shards: 2 });
      Object.assign(phase(p).load, { concurrency: 100_000, duration: '167h' });
      phase(p).conversation = { turns: 100, promptTokens: 10_000, maxTokens: 4_096 };
      p.target.requestTimeout = '1h';
      p.target.maxResponseBytes = '256MiB';
    });
    expect(plan.phases[0]!.load).toMatchObject({ concurrency: 100_000, durationMs: 167 * 3_600_000 });
    expect(plan.target).toMatchObject({ requestTimeoutMs: 3_600_000, maxResponseBytes: 256 * 1024 ** 2 });
  });
});

describe('criteria keys', () => {
  test.each(['__proto__', 'constructor', 'toString'])('%s is an unknown metric, named with the metrics to use (YAML and JSON)', (key) => {
    const yaml = `name: demo
target: { mock: { models: [{ name: small }] } }
phases:
  - name: a
    scenario: requests
    models: [small]
    load: { duration: 1s }
    criteria: { ${key}: "< 1s", latency.e2e.p95: "< 1s" }
`;
    const plan = validPlan();
    Object.defineProperty(phase(plan).criteria, key, { value: '< 1s', enumerable: true });
    for (const text of [yaml, JSON.stringify(plan)]) {
      const problems = problemsOfText(text);
      expect(problems).toEqual([
        expect.stringContaining(`phases[0].criteria.${key}: unknown metric "${key}": use one of latency.e2e.{p50,`),
      ]);
    }
  });

  test('a typo gets a "did you mean", and a value that is not a condition is named', () => {
    expect(problemsOf((p) => (phase(p).criteria = { 'latency.e2e.p59': '< 1s', stability: 5 }))).toEqual([
      'phases[0].criteria["latency.e2e.p59"]: unknown metric "latency.e2e.p59": did you mean "latency.e2e.p50"?',
      'phases[0].criteria.stability: must be a condition with a unit, such as "< 1s" (got 5)',
    ]);
  });

  test('__proto__ as a plan key is an unknown key, not a prototype', () => {
    const problems = problemsOfText('{"__proto__": {"name": "x"}, "name": "demo"}');
    expect(problems).toEqual(
      expect.arrayContaining([
        '__proto__: unknown key "__proto__" (allowed keys: version, name, description, seed, target, phases, alerts, regression)',
      ]),
    );
    expect(({} as Json).name).toBeUndefined();
  });
});

describe('criteria that can never be measured', () => {
  test.each(unmeasurable)('rejects %s', (_name, edit, expected) => {
    expect(problemsOf(edit)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  test('the same metrics are accepted where they are measured', () => {
    accepts((p) => {
      // A mock's memory is read from its /api/ps even with memory.source none; the mock streams.
      phase(p).context = { facts: 2 };
      phase(p).criteria = { 'memory.target.peak': '< 14GB', 'latency.ttft.p95': '< 1s', 'context.preservation': '> 90%' };
    });
    accepts((p) => {
      Object.assign(phase(p).load, { mode: 'open', rate: 10 });
      phase(p).criteria = { 'latency.response.p95': '< 1s', 'load.dropped': '< 1', 'load.schedulingLag.p99': '< 50ms' };
    });
    accepts((p) => {
      switchPhase(p).context = { facts: 2 };
      phase(p).conversation = { turns: 12 };
      phase(p).criteria = { 'switch.time.p95': '< 2s', 'switch.penalty': '< 1s', 'context.accuracy': '> 90%' };
    });
    accepts((p) => {
      p.target = { kind: 'ollama', baseUrl: 'http://127.0.0.1:9', memory: { source: 'ollama-ps' } };
      switchPhase(p).criteria = { 'switch.loadTime.p95': '< 2s', 'memory.target.growth': '< 100MB' };
    });
    // A module target's memory is the worker threads' heaps.
    accepts((p) => {
      p.target = { kind: 'module', module: './chat.js' };
      phase(p).criteria = { 'memory.target.growth': '< 20MB', 'latency.e2e.p95': '< 1s' };
    });
  });
});

describe('reading plan text', () => {
  test('a billion-laughs alias bomb is a plan error', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [index, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + index);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    expect(() => readPlanInput(levels.join('\n'))).toThrow(/syntax: YAML aliases \(\*name\) expand to more than 100 copies/);
    expect(() => readPlanInput('name: *nowhere')).toThrow(/syntax: Unresolved alias/);
  });

  test('nesting, duplicate keys, odd keys and empty files are plan errors naming where', () => {
    expect(() => readPlanInput(`name: ${'['.repeat(100)}${']'.repeat(100)}`)).toThrow(
      /syntax: name\[0\]\[0\].* nests more than 32 levels deep/,
    );
    expect(() => readPlanInput(`name: ${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toThrow(/syntax: the plan nests too deep/);
    expect(() => readPlanInput('phases:\n  - load: { duration: 1s }\n    load: {}\n')).toThrow(
      'syntax: phases[0].load is given twice (lines 2 and 3): keep one',
    );
    expect(() => readPlanInput('? [a, b]\n: 1\n')).toThrow('syntax: (plan) has a key that is a list or map (line 1): keys are names');
    expect(() => readPlanInput('# nothing but a comment\n')).toThrow('syntax: the plan is empty');
    expect(() => readPlanInput('x'.repeat(MAX_PLAN_BYTES + 1))).toThrow(/the plan is 1,048,577 bytes, more than the 1,048,576 \(1 MiB\)/);
  });

  test('problems are capped: the first 50 are listed, then how many more', () => {
    const problems = problemsOf((p) => {
      for (let index = 0; index < 1000; index++) phase(p)[`k${index}`] = 1;
    });
    expect(problems).toHaveLength(MAX_PROBLEMS_LISTED + 1);
    expect(problems[0]).toBe(
      'phases[0].k0: unknown key "k0" (allowed keys: name, description, scenario, models, load, conversation, context, switch, ' +
        'memory, stability, slo, shards, generator, abort, timeLimit, criteria)',
    );
    expect(problems.at(-1)).toBe('... and 950 more problems, not listed: fix the ones above first');
  });

  test('reading and checking a plan is linear in its size: 10x the unknown keys or duplicates take < 30x the time', () => {
    const head = ['name: demo', 'target: { mock: { models: [{ name: small }] } }', 'phases:', '  - name: a', '    scenario: requests'];
    const plan = (keys: number, key: (index: number) => string) =>
      [...head, '    models: [small]', ...Array.from({ length: keys }, (_, index) => `    ${key(index)}: 1`)].join('\n');
    const timeMs = (text: string) => {
      let best = Infinity;
      // Best of 2: a busy machine adds time, never removes it.
      for (let round = 0; round < 2; round++) {
        const start = performance.now();
        expect(() => parsePlan(text)).toThrow(PlanInvalidError);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    for (const key of [(index: number) => `k${index}`, () => 'k']) {
      const small = timeMs(plan(5_000, key));
      const large = timeMs(plan(50_000, key));
      // Linear: ~10x. Before the fix both were quadratic (~100x; 116,000 keys took 100 s); the floor keeps a
      // tiny baseline from making the bound unfair.
      expect(large).toBeLessThan(30 * Math.max(small, 20));
    }
    // Long runs of spaces in a duration or a condition: each unit regex has one way to match.
    const spaces = ' '.repeat(200_000);
    const start = performance.now();
    expect(problemsOf((p) => (phase(p).load.duration = `1${spaces}x`))[0]).toContain('phases[0].load.duration: must be a duration');
    expect(problemsOf((p) => (phase(p).criteria = { 'latency.e2e.p95': `<${spaces}1${spaces}x` }))[0]).toContain('is not a duration value');
    // Quadratic matching of 200,000 spaces takes minutes; linear, milliseconds.
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe('plan files, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grym-plan-bounds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[]): Promise<{ code: number; output: string }> {
    const lines: string[] = [];
    const capture = (...parts: unknown[]) => void lines.push(parts.map(String).join(' '));
    const log = jest.spyOn(console, 'log').mockImplementation(capture);
    const error = jest.spyOn(console, 'error').mockImplementation(capture);
    try {
      return { code: await main(args), output: lines.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  test('a 50 MB plan is refused from its size, before it is read', async () => {
    const file = join(dir, 'huge.yaml');
    // Sparse: 50 MB on paper, nothing on disk; reading it whole would take the heap.
    closeSync(openSync(file, 'w'));
    truncateSync(file, 50e6);
    await expect(loadPlan(file)).rejects.toThrow('the plan is 50,000,000 bytes, more than the 1,048,576 (1 MiB) a plan may be');
    // A special file says nothing true in its size (0): the read stops one byte past the limit.
    await expect(loadPlan('/dev/zero')).rejects.toThrow('the plan is more than the 1,048,576 (1 MiB) a plan may be');
  });

  test.each(['validate', 'run'])(
    '%s exits 2 for each hostile plan of the issue, naming the field and the bound, with no stack',
    async (command) => {
      const edits = [...outOfBounds.slice(0, 8), ...unmeasurable.slice(0, 3)];
      for (const [name, edit, expected] of edits) {
        const plan = validPlan();
        edit(plan);
        const file = join(dir, `${command}-${name.replace(/\W+/g, '-')}.yaml`);
        writeFileSync(file, stringify(plan));
        const { code, output } = await cli([command, file, '--out', join(dir, 'never')].slice(0, command === 'run' ? 4 : 2));
        expect({ name, code }).toEqual({ name, code: 2 });
        expect(output).toContain(expected);
        expect(output).not.toMatch(/\n\s+at |\.ts:\d/);
      }
    },
  );
});
