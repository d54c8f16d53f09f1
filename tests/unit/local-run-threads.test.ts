/** Which command lines start a local run's worker threads before the CLI loads, and how many. */
import { localRunThreads } from '../../src/cli/local-run-threads';

test.each([
  [['run', 'plan.yaml'], {}, {}],
  [['run', 'plan.yaml', '--threads', '3'], {}, { threads: 3 }],
  [['run', '--threads=2', 'plan.yaml'], {}, { threads: 2 }],
  [['run', 'plan.yaml', '--redis', 'redis://127.0.0.1:6379'], {}, null],
  [['run', 'plan.yaml', '--redis=redis://127.0.0.1:6379'], {}, null],
  [['run', 'plan.yaml'], { GRYM_REDIS_URL: 'redis://127.0.0.1:6379' }, null],
  [['run', '--help'], {}, null],
  [['run', 'plan.yaml', '--threads', '0'], {}, null],
  [['run', 'plan.yaml', '--threads', 'many'], {}, null],
  [['validate', 'plan.yaml'], {}, null],
  [[], {}, null],
])('%j with %j -> %j', (argv, env, expected) => {
  expect(localRunThreads(argv, env)).toEqual(expected);
});
