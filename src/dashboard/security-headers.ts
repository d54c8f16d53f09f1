/**
 * Security headers (helmet) on every answer of the dashboard, 401 and error pages included:
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, no framing, and a
 * Content-Security-Policy per kind of page. Our own pages run no script by default, so their policy
 * allows none; the two run pages that draw charts replace it with one that allows exactly their own
 * inline scripts and styles, by a nonce drawn for that answer (`setScriptPagePolicy`). bull-board's
 * single-page app needs its own scripts, so its policy allows those and no more.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { PAGE_STYLE_HASH } from './page-layout';

// Shared by both policies. HSTS is left to whatever terminates TLS in front of the dashboard: it
// serves plain HTTP itself, and a year-long pin set by a loopback tool would outlive the setup.
const common = {
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'no-referrer' as const },
  xFrameOptions: { action: 'deny' as const },
};

/**
 * Our pages (runs list, run pages, raw reports, errors): nothing but the inline stylesheet. A raw
 * report opened directly is thus inert even if a browser guessed it were HTML.
 */
export function pageSecurityHeaders(): RequestHandler {
  return helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: [PAGE_STYLE_HASH],
        baseUri: ["'none'"],
        // The runs list's filter form sends a GET to /runs.
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  }) as RequestHandler;
}

/** A fresh CSP nonce: 128 random bits, new for every answer, so a nonce seen once allows nothing later. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface ScriptPagePolicy {
  /** The nonce on every <script> and <style> of the answer. */
  nonce: string;
  /** `self`: the page polls the dashboard (a run in progress); `none`: it makes no request at all (a report). */
  connect: 'self' | 'none';
}

/**
 * Replaces the default policy of this answer with one for a page with scripts: its own inline
 * scripts and styles (by nonce) and nothing else; no eval, no script or style from anywhere, no
 * image, font or frame, requests only back to the dashboard when `connect` is `self`.
 */
export function setScriptPagePolicy(response: Response, policy: ScriptPagePolicy): void {
  const nonce = `'nonce-${policy.nonce}'`;
  const directives: Array<[string, string]> = [
    ['default-src', "'none'"],
    ['script-src', nonce],
    ['style-src', nonce],
    ['connect-src', `'${policy.connect}'`],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
    ['frame-ancestors', "'none'"],
  ];
  response.setHeader('Content-Security-Policy', directives.map((directive) => directive.join(' ')).join('; '));
}

/**
 * bull-board's pages (checked in Chromium, see tests/integration/dashboard.test.ts): its scripts,
 * styles, images and locale files come from itself; its loading screen and React's rendering use
 * inline styles. No inline script or eval is needed (its config block is `application/json`, which
 * the browser does not run). Its web fonts from the internet are refused: the UI falls back to
 * system fonts, as it does offline, and the board's URLs do not leak to a font host.
 */
export function boardSecurityHeaders(): RequestHandler {
  return helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  }) as RequestHandler;
}
