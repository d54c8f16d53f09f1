/**
 * The shell of every self-contained chart page (report.html, the comparison, the trend): uPlot and
 * the styles inline, the chart specs as JSON, and the drawing script, so that a page opens from
 * disk and makes no request of any kind.
 */
import type { ReportChartData } from './chart-spec';
import { drawCharts } from './draw-charts';
import { escapeHtml, jsonForScript } from './html-escape';
import { uPlotAssets } from './inline-assets';
import { REPORT_CSS } from './report-styles';

/** The element holding the chart specs, which the drawing script reads. */
const DATA_ELEMENT_ID = 'grym-chart-data';

/**
 * The drawing script: `drawCharts` as source, called on the page's window. tsx (esbuild) wraps
 * named functions in `__name(fn, "name")` to keep their names; the shim makes that a no-op where
 * the source came from tsx, and is unused where it came from tsc or swc.
 */
function drawingScript(): string {
  const source = drawCharts.toString().replace(/<\/script/gi, '<\\/script');
  return `var __name = function (target) { return target; };\n(${source})(window, ${JSON.stringify(DATA_ELEMENT_ID)});`;
}

export interface ChartPage {
  /** Plain text: escaped here. */
  title: string;
  /** The page's content (HTML, already escaped), inside <main>. */
  main: string;
  data: ReportChartData;
  /**
   * A Content-Security-Policy nonce put on every <script> and <style> of the page, so that a server
   * can serve it under a policy that allows exactly these (the dashboard does, one nonce per answer).
   */
  nonce?: string;
}

export function renderChartPage(page: ChartPage): string {
  const nonce = page.nonce === undefined ? '' : ` nonce="${escapeHtml(page.nonce)}"`;
  const uPlot = uPlotAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style${nonce}>${uPlot.css}</style>
<style${nonce}>${REPORT_CSS}</style>
</head>
<body>
<main>
${page.main}
</main>
<script type="application/json" id="${DATA_ELEMENT_ID}"${nonce}>${jsonForScript(page.data)}</script>
<script${nonce}>${uPlot.script}</script>
<script${nonce}>${drawingScript()}</script>
</body>
</html>
`;
}
