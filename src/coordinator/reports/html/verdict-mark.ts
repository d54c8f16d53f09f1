/**
 * Pass, fail and warning marks as inline SVG: Chromium without an emoji font draws emoji as empty
 * boxes, and a mark must never depend on a font. Each is hidden from screen readers: the word
 * beside it says the same.
 */

const PASS_PATH =
  '<path d="M6.5 12.5l3.5 3.5 7.5-8" stroke="#fff" stroke-width="2.6" fill="none" stroke-linecap="round" stroke-linejoin="round"/>';
const FAIL_PATH = '<path d="M8 8l8 8M16 8l-8 8" stroke="#fff" stroke-width="2.6" fill="none" stroke-linecap="round"/>';

/** A green disc with a check, or a red one with a cross. */
export function verdictMark(passed: boolean, sizePx = 18): string {
  const fill = passed ? '#1a7f37' : '#c4001d';
  const path = passed ? PASS_PATH : FAIL_PATH;
  const disc = `<circle cx="12" cy="12" r="11" fill="${fill}"/>`;
  return `<svg class="mark" viewBox="0 0 24 24" width="${sizePx}" height="${sizePx}" aria-hidden="true">${disc}${path}</svg>`;
}

/** An amber triangle with an exclamation mark. */
export function warningMark(sizePx = 18): string {
  return (
    `<svg class="mark" viewBox="0 0 24 24" width="${sizePx}" height="${sizePx}" aria-hidden="true">` +
    '<path d="M12 2L23 21H1z" fill="#bf8700"/><path d="M12 9v6" stroke="#fff" stroke-width="2.4" stroke-linecap="round"/>' +
    '<circle cx="12" cy="18" r="1.4" fill="#fff"/></svg>'
  );
}
