/**
 * The Host check of a dashboard without credentials. Loopback alone does not keep other sites out:
 * a page on evil.example can rebind its name to 127.0.0.1 (DNS rebinding) and read the dashboard
 * from the user's own browser, same-origin. Its requests then carry `Host: evil.example`, so
 * answering only loopback host names closes that door. With credentials, the password is the guard
 * and any Host is fine (the dashboard may sit behind a proxy under any name).
 */
import type { RequestHandler } from 'express';
import { escapeHtml, renderPage } from './page-layout';

/** `localhost`, `::1` or an address of 127.0.0.0/8: names that cannot be rebound to another machine. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (name === 'localhost' || name === '::1') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/** A Host header's name without its port (`[::1]:3000` -> `::1`), or undefined when it is malformed. */
function hostnameOf(header: string): string | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header);
  if (!match) return undefined;
  const name = match[1] as string;
  return name.startsWith('[') ? name.slice(1, -1) : name;
}

/** Answers 403 to any request whose Host header is not a loopback name (with or without a port). */
export function loopbackHostOnly(): RequestHandler {
  return (request, response, next) => {
    const header = request.headers.host ?? '';
    const hostname = hostnameOf(header);
    if (hostname !== undefined && isLoopbackHostname(hostname)) return next();
    const body =
      `<h1>Forbidden host</h1><p>This dashboard has no credentials, so it answers only as localhost or 127.0.0.1, ` +
      `not as ${escapeHtml(header || '(no Host header)')}.</p>` +
      '<p>Open it through a loopback address, or set GRYM_DASHBOARD_USER and GRYM_DASHBOARD_PASSWORD.</p>';
    response.status(403).type('html').send(renderPage('forbidden host', body));
  };
}
