/**
 * uPlot's browser build and stylesheet, read from node_modules when a report is rendered and
 * inlined into it: report.html makes no request of any kind. Resolved through `require.resolve`,
 * so it works from the sources (tsx, jest) and from dist alike.
 */
import { readFileSync } from 'node:fs';

export interface InlineAssets {
  script: string;
  css: string;
  version: string;
}

let cached: InlineAssets | undefined;

/** uPlot 1.6's IIFE build (defines `uPlot` on the page, ~51 kB) and its CSS (~2 kB), read once per process. */
export function uPlotAssets(): InlineAssets {
  if (cached) return cached;
  const read = (path: string) => readFileSync(require.resolve(path), 'utf8');
  const { version } = JSON.parse(read('uplot/package.json')) as { version: string };
  cached = {
    // A "</script" or "</style" inside would end the element early: the escaped form means the same in JS and CSS strings.
    script: read('uplot/dist/uPlot.iife.min.js').replace(/<\/script/gi, '<\\/script'),
    css: read('uplot/dist/uPlot.min.css').replace(/<\/style/gi, '<\\/style'),
    version,
  };
  return cached;
}
