/**
 * `alerts:` in a plan: a webhook is named by the variable that holds its URL, never by the URL, and
 * never by a grym-perf setting (GRYM_*); its defaults and bounds.
 */
import { stringify } from 'yaml';
import { PlanInvalidError } from '../../src/shared/errors';
import { parsePlan } from '../../src/shared/parse-plan';

const planWith = (alerts: unknown) =>
  stringify({
    name: 'demo',
    target: { mock: { models: [{ name: 'small' }] } },
    phases: [{ name: 'p', scenario: 'requests', models: ['small'], load: { concurrency: 1, duration: '1s' } }],
    alerts,
  });

function problemsOf(alerts: unknown): string[] {
  try {
    parsePlan(planWith(alerts), 'plan.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInvalidError);
    return (error as PlanInvalidError).problems;
  }
  throw new Error('plan was accepted');
}

test('a webhook named by its variable gets every event, JSON, 3 attempts of 10 s by default', () => {
  const plan = parsePlan(planWith({ webhooks: [{ urlEnv: 'SLACK_WEBHOOK_URL' }] }), 'plan.yaml');
  expect(plan.alerts).toEqual({
    webhooks: [{ urlEnv: 'SLACK_WEBHOOK_URL', on: ['failure', 'regression', 'abort'], format: 'json', timeout: 10_000, attempts: 3 }],
  });
  const slack = parsePlan(
    planWith({ webhooks: [{ urlEnv: 'HOOK', on: ['regression'], format: 'slack', timeout: '2s', attempts: 1 }] }),
    'plan.yaml',
  );
  expect(slack.alerts?.webhooks[0]).toEqual({ urlEnv: 'HOOK', on: ['regression'], format: 'slack', timeout: 2000, attempts: 1 });
  expect(parsePlan(planWith(undefined), 'plan.yaml').alerts).toBeUndefined();
});

test('a URL where the variable name goes is refused, and so is a GRYM_* name', () => {
  const url = problemsOf({ webhooks: [{ urlEnv: 'https://hooks.slack.com/services/T000/B000/XXXX' }] });
  expect(url.join('\n')).toMatch(/alerts\.webhooks\[0\]\.urlEnv: must be the NAME of an environment variable .* never the URL itself/);
  for (const name of ['GRYM_REDIS_URL', 'grym_redis_url']) {
    expect(problemsOf({ webhooks: [{ urlEnv: name }] }).join('\n')).toContain('names a grym-perf setting (GRYM_*)');
  }
});

test('unknown events, formats and keys, no webhook, and unbounded retries are plan errors', () => {
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', on: ['success'] }] }).join('\n')).toContain('alerts.webhooks[0].on[0]');
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', on: [] }] }).join('\n')).toContain('alerts.webhooks[0].on: needs at least 1 item');
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', format: 'xml' }] }).join('\n')).toContain('alerts.webhooks[0].format');
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', url: 'https://example.com' }] }).join('\n')).toContain('unknown key "url"');
  expect(problemsOf({ webhooks: [] }).join('\n')).toContain('alerts.webhooks');
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', attempts: 100 }] }).join('\n')).toContain('alerts.webhooks[0].attempts');
  expect(problemsOf({ webhooks: [{ urlEnv: 'H', timeout: '1h' }] }).join('\n')).toContain('must be at most 1m');
});
