/**
 * The HTML shell of the dashboard's own pages. Its one stylesheet is inline and allowed by its hash
 * in the default Content-Security-Policy (`PAGE_STYLE_HASH`), so that policy allows no other style
 * and no script at all. A page with scripts (a run in progress) passes the nonce of its answer's
 * policy instead, and every <style> and <script> it adds carries that nonce.
 */
import { createHash } from 'node:crypto';

/** Escapes text for HTML content and attribute values: reports carry user-written names. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Table alignment comes as classes (see `runPages`), never as style attributes the policy would block.
const PAGE_STYLE = `
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
th{background:#f6f8fa}code{background:#f6f8fa;padding:0 .2rem}nav a{margin-right:1rem}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.status{font-weight:600}
.align-left{text-align:left}.align-right{text-align:right}.align-center{text-align:center}
.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#59636e}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:1rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:#59636e}
`;

/** The CSP source that allows exactly the inline stylesheet of `renderPage`. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`;

export interface PageOptions {
  /** The CSP nonce of this answer (see `setScriptPagePolicy`): put on the page's own <style>. */
  nonce?: string;
  /** More of the head (styles with the nonce): safe HTML. */
  head?: string;
  /** What ends the body (data blocks, scripts with the nonce): safe HTML. */
  tail?: string;
}

/** A whole page; `title` is escaped here, `body` must already be safe HTML. */
export function renderPage(title: string, body: string, options: PageOptions = {}): string {
  const nonce = options.nonce === undefined ? '' : ` nonce="${escapeHtml(options.nonce)}"`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>` +
    `<style${nonce}>${PAGE_STYLE}</style>${options.head ?? ''}</head>` +
    `<body><nav><a href="/runs">Runs</a><a href="/board">Queues (bull-board)</a></nav>${body}${options.tail ?? ''}</body></html>`
  );
}
