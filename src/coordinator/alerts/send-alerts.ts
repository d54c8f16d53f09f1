/**
 * The plan's `alerts:` at the end of a run: each webhook whose `on` names one of the run's events
 * (failure, regression, abort) is called with the payload in its format, all at once, each with its
 * bounded retries. The URL comes from the environment variable the plan names. A webhook that is not
 * set, not an http(s) URL or not answering is reported on the console and never changes the run's
 * exit code; the console names the variable, never its value.
 */
import type { AlertEvent, Alerts, Webhook } from '../../shared/alerts-schema';
import type { RunReport } from '../../shared/run-report';
import { isRegressed, type RegressionCheck } from '../ci/regression-check';
import { buildAlertPayload, slackMessage, type AlertPayload } from './alert-payload';
import { postWebhook } from './post-webhook';

export interface WebhookResult {
  urlEnv: string;
  format: Webhook['format'];
  delivered: boolean;
  problem?: string;
}

/** What happened in a run that alerts can be called on. */
export function alertEvents(report: RunReport, regressions: readonly RegressionCheck[]): AlertEvent[] {
  const events: AlertEvent[] = [];
  if (report.aborted) events.push('abort');
  else if (!report.passed) events.push('failure');
  if (regressions.some(isRegressed)) events.push('regression');
  return events;
}

/**
 * The webhook variables not set here: said before the run starts, so that a missing alert is no surprise.
 * @public `run` loads this module with require() only for a plan with webhooks (commands/run.ts), which knip does not follow.
 */
export function unsetWebhookVariables(alerts: Alerts | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  return [...new Set((alerts?.webhooks ?? []).map((webhook) => webhook.urlEnv).filter((name) => !env[name]))];
}

/** The webhook URL from its variable, or why it cannot be called (naming the variable, never the value). */
function webhookUrl(webhook: Webhook, env: NodeJS.ProcessEnv): { url: string } | { problem: string } {
  const value = env[webhook.urlEnv];
  if (!value) return { problem: `${webhook.urlEnv} is not set here` };
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') return { problem: `${webhook.urlEnv} does not hold an http:// or https:// URL` };
  return { url: value };
}

/**
 * Values that must never leave in a payload: every webhook URL and the target's API key. The payload
 * is built from the report, which holds neither; this is the guard should that ever change.
 */
function secretsOf(report: RunReport, alerts: Alerts, env: NodeJS.ProcessEnv): string[] {
  const keyEnv = (report.resolvedPlan as { target?: { apiKeyEnv?: unknown } } | null)?.target?.apiKeyEnv;
  const names = [...alerts.webhooks.map((webhook) => webhook.urlEnv), ...(typeof keyEnv === 'string' ? [keyEnv] : [])];
  return names.map((name) => env[name]).filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

function withoutSecrets(body: string, secrets: readonly string[]): string {
  // Both as written and as JSON writes it inside a string.
  return secrets
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)])
    .reduce((text, secret) => text.split(secret).join('***'), body);
}

function bodyOf(webhook: Webhook, payload: AlertPayload): string {
  return JSON.stringify(webhook.format === 'slack' ? slackMessage(payload) : payload);
}

async function callWebhook(
  webhook: Webhook,
  payload: AlertPayload,
  secrets: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<WebhookResult> {
  const result = { urlEnv: webhook.urlEnv, format: webhook.format };
  const target = webhookUrl(webhook, env);
  if ('problem' in target) return { ...result, delivered: false, problem: target.problem };
  const delivery = await postWebhook(target.url, withoutSecrets(bodyOf(webhook, payload), secrets), {
    timeoutMs: webhook.timeout,
    attempts: webhook.attempts,
  });
  return { ...result, delivered: delivery.delivered, ...(delivery.problem ? { problem: delivery.problem } : {}) };
}

function describe(result: WebhookResult, events: readonly AlertEvent[], attempts: number): string {
  const which = `alert: webhook $${result.urlEnv} (${result.format}, on ${events.join(', ')})`;
  if (result.delivered) return `${which} delivered`;
  const tried = attempts > 1 ? ` (up to ${attempts} attempts)` : '';
  return `${which} NOT delivered${tried}: ${result.problem ?? 'unknown problem'}; the run's verdict and exit code stand`;
}

export interface SendAlertsInput {
  report: RunReport;
  alerts: Alerts | undefined;
  regressions?: readonly RegressionCheck[];
  /** Where the reports were written, by kind (json, markdown, html, junit). */
  reports: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

/** Calls the webhooks the run's events call for, prints one line for each, and says how each went. */
export async function sendAlerts(input: SendAlertsInput): Promise<WebhookResult[]> {
  const { report, alerts, regressions = [], reports, env = process.env } = input;
  const events = alertEvents(report, regressions);
  if (!alerts || events.length === 0) return [];
  const called = alerts.webhooks.filter((webhook) => webhook.on.some((event) => events.includes(event)));
  if (called.length === 0) return [];
  const payload = buildAlertPayload({ report, events, regressions, reports });
  const secrets = secretsOf(report, alerts, env);
  const results = await Promise.all(called.map((webhook) => callWebhook(webhook, payload, secrets, env)));
  results.forEach((result, index) => {
    const line = describe(result, events, called[index]?.attempts ?? 1);
    if (result.delivered) console.log(line);
    else console.error(line);
  });
  return results;
}
