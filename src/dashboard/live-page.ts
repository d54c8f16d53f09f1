/**
 * The page of a run in progress: where it is in words (readable without script), and the
 * elements `followRun` fills and keeps current from live.json without reloading: each phase's and
 * shard's progress, the criteria of the phase running now judged so far, its latest window, and its
 * windows drawn over time. Its scripts and styles (uPlot inlined from node_modules, the data, `followRun`) carry the
 * answer's nonce; it is served under `setScriptPagePolicy(..., { connect: 'self' })`.
 */
import { jsonForScript } from '../coordinator/reports/html/html-escape';
import { PALETTE } from '../coordinator/reports/html/chart-palette';
import { uPlotAssets } from '../coordinator/reports/html/inline-assets';
import { followRun, type FollowRunConfig, type LiveChartColors } from './follow-run';
import type { LiveRun } from './live-run';
import { escapeHtml, renderPage } from './page-layout';

/** How often the page reads live.json: workers report progress at most once a second. */
const LIVE_POLL_MS = 1000;

/** Windows a live chart keeps: 15 minutes of 1 s windows. */
const LIVE_MAX_POINTS = 900;

/** The live charts' series colours (those of report.html's charts). */
export const LIVE_CHART_COLORS: LiveChartColors = {
  ok: PALETTE.blue,
  errors: PALETTE.red,
  e2eP50: PALETTE.green,
  e2eP95: PALETTE.orange,
  ttftP95: PALETTE.purple,
};

const SNAPSHOT_ID = 'live-snapshot';

const LIVE_CSS = `
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.note.problem{color:#9a6700;font-weight:600}
tr.phase td{font-weight:600;background:#f6f8fa}tr.phase.current td{background:#ddf4ff}
td.shard-name{padding-left:1.6rem}td.progress{white-space:nowrap}td.progress progress{width:7rem;vertical-align:middle}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;margin:.5rem 0 1rem}
.stat{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.3rem .6rem}
.stat .label{color:#59636e;font-size:.8rem}.stat .value{font-size:1.1rem;font-weight:600;font-variant-numeric:tabular-nums}
.live-charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(28rem,1fr));gap:1rem}
.live-charts figure{margin:0;border:1px solid #d0d7de;border-radius:8px;padding:.5rem .75rem;min-width:0}
.live-charts figcaption{font-weight:600;margin-bottom:.25rem}.live-chart{width:100%;min-height:220px}
`;

/** `followRun` as source, called on the page's window (the `__name` shim: see render-html-report.ts). */
function followScript(config: FollowRunConfig): string {
  const source = followRun.toString().replace(/<\/script/gi, '<\\/script');
  return `var __name = function (target) { return target; };\n(${source})(window, ${jsonForScript(config)});`;
}

/** The whole page of a run in progress, with the nonce of its answer's policy on every script and style. */
export function renderLivePage(live: LiveRun, nonce: string): string {
  const base = `/runs/${encodeURIComponent(live.runId)}`;
  const attribute = ` nonce="${escapeHtml(nonce)}"`;
  const uPlot = uPlotAssets();
  const body = `<h1>${escapeHtml(live.plan)}: run ${escapeHtml(live.runId)}</h1>
<p class="status" id="live-state">${escapeHtml(live.words)}</p>
<p class="note" id="live-note">Submitted ${escapeHtml(live.submittedAt)}. The report replaces this page when the run ends.</p>
<noscript><p class="note problem">Without JavaScript this page does not update: reload it to see where the run is.</p></noscript>
<h2>Phases and shards</h2>
<table><thead><tr><th>phase / shard</th><th>state</th><th>progress</th><th>ok</th><th>errors</th><th>attempts</th></tr></thead>
<tbody id="live-phases"></tbody></table>
<h2 id="live-criteria-title">Criteria so far</h2>
<p id="live-criteria-words"></p>
<table><thead><tr><th>criterion</th><th>so far</th><th>judged</th></tr></thead>
<tbody id="live-criteria"></tbody></table>
<h2 id="live-latest-title">Latest window</h2>
<div class="stats" id="live-latest"></div>
<h2 id="live-charts-title">Over time</h2>
<div class="live-charts">
<figure><figcaption>Throughput per window: requests/s ok and failed</figcaption><div class="live-chart" id="live-throughput"></div></figure>
<figure><figcaption>Latency per window: e2e p50 and p95, TTFT p95</figcaption><div class="live-chart" id="live-latency"></div></figure>
</div>
<p class="note">Counts marked &#8805; were last reported before their shard ended: the report has the final ones.
When the run ends: <a href="${base}/report.json">report.json</a>, <a href="${base}/report.md">report.md</a>.</p>`;
  const config: FollowRunConfig = {
    url: `${base}/live.json`,
    snapshotId: SNAPSHOT_ID,
    pollMs: LIVE_POLL_MS,
    maxPoints: LIVE_MAX_POINTS,
    colors: LIVE_CHART_COLORS,
  };
  return renderPage(`${live.plan}: ${live.words}`, body, {
    nonce,
    head: `<style${attribute}>${uPlot.css}</style><style${attribute}>${LIVE_CSS}</style>`,
    tail:
      `<script type="application/json" id="${SNAPSHOT_ID}"${attribute}>${jsonForScript(live)}</script>` +
      `<script${attribute}>${uPlot.script}</script><script${attribute}>${followScript(config)}</script>`,
  });
}
