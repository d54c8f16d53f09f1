import { stringify } from 'yaml';
import { PlanInvalidError } from '../../src/shared/errors';
import { parsePlan } from '../../src/shared/parse-plan';
import { mockOf } from '../../src/shared/target-schema';

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

type Edit = (plan: Json) => void;
const phase = (plan: Json): Json => plan.phases[0];

function problemsOf(edit: Edit): string[] {
  const plan = validPlan();
  edit(plan);
  try {
    parsePlan(stringify(plan), 'plan.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInvalidError);
    expect((error as PlanInvalidError).code).toBe('GRYM_ERR_PLAN_INVALID');
    return (error as PlanInvalidError).problems;
  }
  throw new Error('plan was accepted');
}

/** A server whose memory is a Prometheus gauge, judged by `criterion` on its target memory peak. */
const prometheusMemory =
  (criterion: string, unit?: string): Edit =>
  (p) => {
    p.target = { baseUrl: 'http://127.0.0.1:8080/v1', memory: { source: 'prometheus', url: 'http://127.0.0.1:8080/metrics', unit } };
    phase(p).criteria = { 'memory.target.peak': criterion };
  };

// One row per rejected plan: what was wrong, and the line that must name the field and the fix.
const rejected: Array<[string, Edit, string]> = [
  [
    'an open loop capped by requests alone (it would schedule no arrival)',
    (p) => {
      phase(p).load = { mode: 'open', rate: 5, requests: 12 };
    },
    'phases[0].load.duration: is required for mode "open"',
  ],
  [
    'a percentage on target memory read in bytes',
    prometheusMemory('< 90%'),
    'phases[0].criteria["memory.target.peak"]: "90%" is not a bytes value: write it like "100MB", "14GB": target memory is read in bytes here (target.memory.unit: bytes)',
  ],
  [
    'a byte size on target memory read as a ratio',
    prometheusMemory('< 2GB', 'ratio'),
    'target memory is read in ratio here (target.memory.unit: ratio)',
  ],
  [
    'typo in a key',
    (p) => {
      phase(p).lod = phase(p).load;
      delete phase(p).load;
    },
    'phases[0].lod: unknown key "lod" (did you mean "load"?)',
  ],
  [
    'concurrency 0',
    (p) => {
      phase(p).load.concurrency = 0;
    },
    'phases[0].load.concurrency: must be >= 1 (got 0)',
  ],
  [
    'a phase that never ends',
    (p) => {
      phase(p).load = { concurrency: 2 };
    },
    'phases[0].load: needs `duration` or `requests`',
  ],
  [
    'duration without a unit',
    (p) => {
      phase(p).load.duration = 30;
    },
    'phases[0].load.duration: must be a duration with a unit, such as "500ms" or "30s" (got 30)',
  ],
  [
    'duration with a wrong unit',
    (p) => {
      phase(p).load.duration = '30 parsecs';
    },
    'phases[0].load.duration: must be a duration with a unit, such as "500ms" or "30s" (got "30 parsecs")',
  ],
  [
    'unknown metric',
    (p) => {
      phase(p).criteria = { 'latency.e2e.p59': '< 1s' };
    },
    'phases[0].criteria["latency.e2e.p59"]: unknown metric "latency.e2e.p59": did you mean "latency.e2e.p50"?',
  ],
  [
    'criterion with the wrong unit',
    (p) => {
      phase(p).criteria = { 'latency.e2e.p95': '< 1GB' };
    },
    'phases[0].criteria["latency.e2e.p95"]: "1GB" is not a duration value: write it like "1s", "250ms"',
  ],
  [
    'criterion without operator',
    (p) => {
      phase(p).criteria = { 'context.preservation': '95%' };
    },
    'phases[0].criteria["context.preservation"]: condition must be an operator (<, <=, >, >=) and a value',
  ],
  [
    'scenario misspelt',
    (p) => {
      phase(p).scenario = 'request';
    },
    'phases[0].scenario: must be one of "requests", "model-switch" (got "request")',
  ],
  [
    'model switch with one model',
    (p) => {
      phase(p).scenario = 'model-switch';
      phase(p).models = ['small'];
    },
    'phases[0].models: needs at least two different models to switch between (got ["small"])',
  ],
  [
    'an API key where its variable name goes',
    (p) => {
      p.target.apiKeyEnv = 'sk-abc123-secret';
    },
    'target.apiKeyEnv: must be the NAME of an environment variable (such as OPENAI_API_KEY), never the key itself',
  ],
  [
    'neither baseUrl nor mock',
    (p) => {
      p.target = {};
    },
    "target.baseUrl: is required: give the server's URL",
  ],
  [
    'both baseUrl and mock',
    (p) => {
      p.target.baseUrl = 'http://127.0.0.1:1/v1';
    },
    'target.mock: cannot be combined with baseUrl',
  ],
  [
    'duplicate phase names',
    (p) => {
      p.phases.push({ ...p.phases[0] });
    },
    'phases[1].name: "baseline" is used by an earlier phase: phase names must be unique',
  ],
  [
    'a model the mock does not serve',
    (p) => {
      phase(p).models = ['huge'];
    },
    'phases[0].models[0]: "huge" is not served by target.mock (it serves small, large)',
  ],
  [
    'more shards than conversations',
    (p) => {
      phase(p).shards = 3;
    },
    'phases[0].shards: must be <= load.concurrency (2)',
  ],
  [
    'more facts than turns allow',
    (p) => {
      phase(p).context = { facts: 5, minDistance: 4 };
      phase(p).conversation = { turns: 6 };
    },
    'phases[0].context.facts: 5 facts probed at least 4 turns later need conversation.turns >= 9 (got 6)',
  ],
  [
    'upper-case plan name',
    (p) => {
      p.name = 'Demo Plan';
    },
    'name: must be lower-case letters, digits and dashes, such as "tdr-011" (got "Demo Plan")',
  ],
  [
    'no phases',
    (p) => {
      p.phases = [];
    },
    'phases: needs at least 1 item (got 0)',
  ],
  [
    'error rate over 100 %',
    (p) => {
      p.target.mock.models[0].errorRate = '150%';
    },
    'target.mock.models[0].errorRate: must be a percentage from "0%" to "100%" (got "150%")',
  ],
];

describe('plan validation', () => {
  test.each(rejected)('rejects %s', (_name, edit, expected) => {
    expect(problemsOf(edit)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  test('reports every problem at once, not just the first', () => {
    const problems = problemsOf((p) => {
      p.name = 'Bad';
      phase(p).load.concurrency = 0;
      phase(p).scenario = 'nope';
    });
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  test('a YAML syntax error is a plan error too', () => {
    expect(() => parsePlan('name: [unclosed', 'broken.yaml')).toThrow(PlanInvalidError);
    expect(() => parsePlan('name: a\nname: b\n', 'dup.yaml')).toThrow(/syntax/);
  });

  test('criteria on target memory are read in the unit of its source', () => {
    const criterionIn = (criterion: string, unit?: string) => {
      const plan = validPlan();
      prometheusMemory(criterion, unit)(plan);
      return parsePlan(stringify(plan)).phases[0]!.criteria[0];
    };
    expect(criterionIn('< 90%', 'ratio')).toMatchObject({ kind: 'ratio', threshold: 0.9 });
    expect(criterionIn('< 400', 'count')).toMatchObject({ kind: 'count', threshold: 400 });
    expect(criterionIn('< 14GB')).toMatchObject({ kind: 'bytes', threshold: 14e9 });
  });

  test('a valid plan resolves units and fills defaults', () => {
    const plan = parsePlan(stringify(validPlan()));
    const [resolved] = plan.phases;
    expect(resolved!.load).toEqual({ mode: 'closed', arrival: 'constant', concurrency: 2, durationMs: 5000, warmupMs: 0, cooldownMs: 0 });
    expect(resolved!.criteria).toEqual([{ metric: 'latency.e2e.p95', op: '<', threshold: 1000, kind: 'duration', text: '< 1s' }]);
    expect(resolved!.stability).toEqual({ windowMs: 1000, maxErrorRate: 0.01, minThroughputRatio: 0.5 });
    expect(mockOf(plan.target)!.models[0]!.memoryBytes).toBe(4e9);
    expect(Object.isFrozen(plan.phases[0])).toBe(true);
  });

  test('JSON plans are accepted', () => {
    expect(parsePlan(JSON.stringify(validPlan())).name).toBe('demo');
  });
});
