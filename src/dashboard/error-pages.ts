/**
 * The dashboard's last handlers: a 404 page for unknown paths and an error handler that answers a
 * short plain page in the format of what was asked (JSON for report.json, text for report.md,
 * HTML otherwise). Express's own handler would print the stack (in development) and log it; this
 * one never shows a stack, and logs one line for errors that are not the user's.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { escapeHtml, renderPage } from './page-layout';
import { PageError } from './page-error';

const TITLES: Record<number, string> = { 400: 'bad request', 404: 'not found', 500: 'internal error', 503: 'Redis unavailable' };

/** Answers `status` with `message` in the format the path asks for. */
function answer(request: Request, response: Response, status: number, message: string): void {
  response.status(status);
  if (request.path.endsWith('.json')) return void response.json({ error: message });
  if (request.path.endsWith('.md')) return void response.type('text/plain').send(`${message}\n`);
  response
    .type('html')
    .send(renderPage(TITLES[status] ?? 'error', `<h1>${escapeHtml(TITLES[status] ?? 'error')}</h1><p>${escapeHtml(message)}</p>`));
}

/** 404 for any path no route took. */
export function notFoundPage(): RequestHandler {
  return (request, response) => answer(request, response, 404, `no page at ${request.path}`);
}

export interface ErrorPagesOptions {
  /** Whether the dashboard's Redis connection is up: commands failing while it is down answer 503. */
  redisReady(): boolean;
  log(line: string): void;
}

/** The error handler: 400/404/503 with our message, anything else 500 with a line in the log. */
export function errorPages(options: ErrorPagesOptions): ErrorRequestHandler {
  return (error: unknown, request, response, next) => {
    // Headers already sent: only express can end the response (it destroys the socket).
    if (response.headersSent) return next(error);
    if (error instanceof PageError) return answer(request, response, error.status, error.message);
    // Express's own client errors (a malformed %-escape in the path, an oversized body) carry a 4xx status.
    const status = (error as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return answer(request, response, status === 404 ? 404 : 400, status === 404 ? `no page at ${request.path}` : 'malformed request');
    }
    if (!options.redisReady()) return answer(request, response, 503, 'Redis is unreachable: this page will answer when it is back');
    const message = error instanceof Error ? error.message : String(error);
    options.log(`dashboard: ${request.method} ${request.path} failed (${message.split('\n')[0]})`);
    answer(request, response, 500, 'the dashboard could not answer this request: see its log');
  };
}
