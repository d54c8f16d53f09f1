import type { Plan } from '../shared/plan-schema';

/**
 * The variable `target.apiKeyEnv` names when it is not set (or empty) in `env`, else undefined:
 * requests would go out without a key, and the server's 401s would be counted as its failures.
 */
export function unsetApiKey(plan: Plan, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = plan.target.kind === 'module' ? undefined : plan.target.apiKeyEnv;
  return name !== undefined && !env[name] ? name : undefined;
}
