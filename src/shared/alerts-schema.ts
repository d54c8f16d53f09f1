/**
 * `alerts:` in a plan: webhooks called at the end of a run that failed, regressed or was aborted.
 * A webhook URL is a secret (a Slack incoming webhook's path is its token), so the plan names the
 * environment variable that holds it, as `target.apiKeyEnv` does for API keys: the URL is read from
 * the environment of the process running `grym-perf run`, and never reaches a plan, a job or a report.
 */
import { z } from 'zod';
import { duration } from './plan-units';

/** What a webhook may be called on. */
const ALERT_EVENTS = ['failure', 'regression', 'abort'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** The same shape as `target.apiKeyEnv`: a variable's name, never its value. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_NOT_URL = 'must be the NAME of an environment variable (such as SLACK_WEBHOOK_URL), never the URL itself';

/** The most webhooks a plan may call: each is called in turn at the end of the run. */
const MAX_WEBHOOKS = 20;
/** The most attempts per webhook: a webhook never holds up the end of a run for long. */
const MAX_ATTEMPTS = 10;

const webhookSchema = z.strictObject({
  urlEnv: z
    .string()
    .max(256, NAME_NOT_URL)
    .regex(ENV_NAME, NAME_NOT_URL)
    // Upper-cased, as worker-policy does: Windows reads variables without case.
    .refine(
      (name) => !name.toUpperCase().startsWith('GRYM_'),
      "names a grym-perf setting (GRYM_*), which holds grym-perf's own settings: name the variable that holds the webhook URL",
    )
    .describe(
      'Name of the environment variable that holds the webhook URL (http or https). The URL itself never appears in a plan or a report.',
    ),
  on: z
    .array(z.enum(ALERT_EVENTS))
    .min(1)
    .default([...ALERT_EVENTS])
    .describe(
      'When to call it: failure (a criterion or a phase failed), regression (against --baseline), abort (the run was interrupted).',
    ),
  format: z
    .enum(['json', 'slack'])
    .default('json')
    .describe('json: a generic JSON payload; slack: `{ "text": ... }`, as Slack, Mattermost and Teams workflows take.'),
  timeout: duration('How long one attempt waits for the webhook to answer.', {
    min: { value: '100ms', why: 'a webhook needs time to answer' },
    max: { value: '1m', why: 'a webhook never holds up the end of a run for long' },
  }).prefault('10s'),
  attempts: z
    .number()
    .int()
    .min(1)
    .max(MAX_ATTEMPTS)
    .default(3)
    .describe('Attempts in all; a timeout, a refused connection, HTTP 429 or 5xx is tried again after a growing pause.'),
});

export const alertsSchema = z
  .strictObject({
    webhooks: z.array(webhookSchema).min(1).max(MAX_WEBHOOKS).describe('Webhooks called at the end of a run, one after the other.'),
  })
  .describe('Alerts at the end of a run. A webhook that fails is reported on the console and never changes the exit code.');

export type Alerts = z.output<typeof alertsSchema>;
export type Webhook = Alerts['webhooks'][number];
