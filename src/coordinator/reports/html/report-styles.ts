/**
 * The stylesheet of report.html: system fonts only (nothing to download), two charts a row on
 * wide screens and one on narrow ones, verdict colours that also read in greyscale (each comes
 * with a word and a mark).
 */
export const REPORT_CSS = `
:root { --pass: #1a7f37; --fail: #c4001d; --warn: #9a6700; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); }
main { max-width: 1400px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0; display: flex; align-items: center; gap: 10px; }
h3 { font-size: 15px; margin: 0 0 6px; }
code { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
a { color: #0969da; }
svg.mark { flex: none; vertical-align: -3px; }
.verdict { display: flex; gap: 18px; align-items: flex-start; border: 1px solid var(--line); border-left: 8px solid var(--pass);
  border-radius: 8px; padding: 16px 20px; margin-bottom: 20px; background: var(--panel); }
.verdict.fail { border-left-color: var(--fail); }
.verdict .word { font-weight: 700; }
.verdict.pass .word { color: var(--pass); }
.verdict.fail .word { color: var(--fail); }
.summary { margin: 0 0 10px; font-size: 15px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.phase-links { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-top: 8px; }
.phase-links a { display: inline-flex; gap: 4px; align-items: center; text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 18px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.result { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
.result.pass { color: var(--pass); }
.result.fail { color: var(--fail); font-weight: 600; }
.metric-description { color: var(--muted); font-size: 12.5px; }
.phase { border-top: 2px solid var(--line); padding-top: 18px; margin-top: 26px; }
.phase-meta { color: var(--muted); margin: 4px 0 10px; }
.badge { font-size: 12px; font-weight: 700; padding: 2px 8px; border-radius: 10px; color: #fff; background: var(--pass); }
.badge.fail { background: var(--fail); }
.banner { border-radius: 6px; padding: 8px 12px; margin: 8px 0; border: 1px solid; }
.banner.fail { border-color: #f3b4bf; background: #fff0f2; }
.banner.warn { border-color: #e9d38c; background: #fff8e1; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 12px 0 16px; }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.stat .label { color: var(--muted); font-size: 12px; }
.stat .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.panel { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
.panel figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.chart { width: 100%; min-height: 260px; }
.not-drawn { color: var(--muted); font-size: 13px; }
.details { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; margin-top: 16px; }
.sample { white-space: pre-wrap; word-break: break-word; max-height: 9em; overflow: auto; display: block; }
.health { display: flex; gap: 8px; align-items: flex-start; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 640px) { .charts, .details { grid-template-columns: 1fr; } main { padding: 12px; } }
`;
