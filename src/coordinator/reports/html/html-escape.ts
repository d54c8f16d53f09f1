/**
 * Escaping for report.html: every string that came from a user, a plan, a worker or a target's
 * reply (plan and model names, run ids, worker names, error bodies) goes through `escapeHtml`;
 * data for the charts goes through `jsonForScript`, which is safe inside a <script> element.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character] as string);
}

/**
 * JSON that cannot end its <script> element or open a comment in it: `<`, `>` and `&` become
 * \u escapes (still the same JSON), as do the line separators older parsers reject.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
