/**
 * The module target: a team's own integration code runs in the worker threads. A module that leaks
 * must fail the phase on memory growth with a leak verdict and a heap snapshot pair; the same
 * module without the leak must pass.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildPhaseReport } from '../../src/coordinator/reports/build-run-report';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { readPlan } from '../../src/shared/parse-plan';
import { mergeShardResults } from '../../src/shared/shard-result';
import { createLocalExecutor } from '../../src/worker';
import { heapSnapshotDir } from '../../src/worker/memory/heap-snapshots';
import { REPO_ROOT } from '../helpers/cli-process';

// Two phases of three seconds, plus heap snapshots.
jest.setTimeout(60_000);

const fixtures = join(REPO_ROOT, 'tests', 'fixtures');
const planFor = (module: string) =>
  readPlan(`
name: module-${module.replace(/\W/g, '')}
target: { kind: module, module: ./modules/${module}, heapSnapshots: true, requestTimeout: 2s }
phases:
  - name: chat
    scenario: requests
    models: [any]
    load: { concurrency: 2, duration: 3s, warmup: 300ms }
    conversation: { turns: 8, promptTokens: 4 }
    context: { facts: 2, minDistance: 2 }
    memory: { interval: 100ms, leakThreshold: 20MB }
    criteria:
      memory.target.growth: "< 20MB"
      context.preservation: "> 95%"
`);

const executor = createLocalExecutor({ threads: 1 });
afterAll(() => executor.close());

async function runModule(module: string) {
  const loaded = planFor(module);
  const { plan } = loaded;
  const runId = `module-test-${process.pid}-${module.length}`;
  rmSync(heapSnapshotDir(runId), { recursive: true, force: true });
  const results = await executor.runPhase(shardTasks(loaded, 0, resolveTarget(plan.target, undefined, fixtures), runId));
  return buildPhaseReport({ phase: plan.phases[0]!, merged: mergeShardResults(results), error: null });
}

test('an integration that leaks fails on memory growth, gets a leak verdict and a heap snapshot pair', async () => {
  const report = await runModule('leaky-chat-integration.js');
  const memory = report.metrics.memory;
  expect(report.metrics.requests.ok).toBeGreaterThan(100);
  expect(memory.target.source).toBe('thread-heap');
  expect(memory.target.verdict).toBe('leak');
  expect(report.criteria.find((c) => c.metric === 'memory.target.growth')).toMatchObject({ passed: false });
  expect(report.passed).toBe(false);
  // A growing heap makes V8 collect: the pauses are seen in the thread.
  expect(memory.gcPauses!.count).toBeGreaterThan(0);
  expect(memory.heapSnapshots).toHaveLength(2);
  expect(memory.heapSnapshots[0]).toMatch(/-start\.heapsnapshot$/);
  expect(memory.heapSnapshots[1]).toMatch(/-end\.heapsnapshot$/);
  for (const file of memory.heapSnapshots) expect(existsSync(file)).toBe(true);
  for (const file of memory.heapSnapshots) rmSync(file);
  // Its context manager still works: facts are recalled from the integration's own history.
  expect(report.metrics.context.preservation).toBe(1);
});

test('the same integration without the leak passes, with no snapshots left behind', async () => {
  const report = await runModule('chat-integration.js');
  expect(report.metrics.memory.target.verdict).not.toBe('leak');
  expect(report.metrics.memory.heapSnapshots).toEqual([]);
  expect(report.passed).toBe(true);
});
