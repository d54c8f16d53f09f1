/**
 * HTTP basic auth for the dashboard. Credentials come from the environment only (flags would show
 * in `ps`), are compared in constant time, and are required to listen beyond loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UsageError } from '../shared/errors';
import { isLoopbackHostname } from './loopback-host-only';

export interface DashboardCredentials {
  user: string;
  password: string;
}

/** `GRYM_DASHBOARD_USER` and `GRYM_DASHBOARD_PASSWORD`, or undefined when either is missing. */
export function dashboardCredentialsFromEnv(env: NodeJS.ProcessEnv): DashboardCredentials | undefined {
  const user = env.GRYM_DASHBOARD_USER;
  const password = env.GRYM_DASHBOARD_PASSWORD;
  return user && password ? { user, password } : undefined;
}

/** Refuses to serve beyond loopback without credentials. */
export function assertSafeBinding(host: string, credentials: DashboardCredentials | undefined): void {
  if (!credentials && !isLoopbackHostname(host)) {
    throw new UsageError(
      `refusing to serve the dashboard on ${host} without credentials`,
      'set GRYM_DASHBOARD_USER and GRYM_DASHBOARD_PASSWORD in the environment, or bind to 127.0.0.1',
    );
  }
}

// Hashing both sides first makes the comparison constant-time whatever the lengths.
const digest = (text: string) => createHash('sha256').update(text).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** Answers 401 (with the challenge) unless the request carries the credentials. */
export function basicAuth(credentials: DashboardCredentials): RequestHandler {
  return (request, response, next) => {
    const header = request.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    if (scheme === 'Basic' && encoded) {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const separator = decoded.indexOf(':');
      const userOk = same(decoded.slice(0, separator), credentials.user);
      const passwordOk = same(decoded.slice(separator + 1), credentials.password);
      if (separator >= 0 && userOk && passwordOk) return next();
    }
    response
      .set('WWW-Authenticate', 'Basic realm="grym-perf", charset="UTF-8"')
      .status(401)
      .type('text/plain')
      .send('authentication required\n');
  };
}
