/**
 * The few browser objects `drawCharts` uses, typed here: the project compiles without the DOM
 * library (adding it would give every Node file `window` and `document`), and the page's script
 * must only touch what it is handed. Structural subsets of the DOM's own types.
 */
import type uPlot from 'uplot';

export interface ChartElement {
  readonly id: string;
  readonly clientWidth: number;
  textContent: string | null;
  /** data-* attributes: the chart records that it drew, and how many points. */
  readonly dataset: Record<string, string | undefined>;
}

interface ReportDocument {
  getElementById(id: string): ChartElement | null;
  readonly body: ChartElement;
}

/** The part of CanvasRenderingContext2D the drawing hooks use. */
export interface Canvas2D {
  strokeStyle: string;
  fillStyle: string;
  lineWidth: number;
  font: string;
  textAlign: 'left' | 'right' | 'center' | 'start' | 'end';
  textBaseline: 'top' | 'bottom' | 'middle' | 'alphabetic' | 'hanging' | 'ideographic';
  save(): void;
  restore(): void;
  beginPath(): void;
  rect(x: number, y: number, width: number, height: number): void;
  clip(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number): void;
  stroke(): void;
  fill(): void;
  fillRect(x: number, y: number, width: number, height: number): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): { width: number };
  strokeText(text: string, x: number, y: number): void;
  setLineDash(segments: number[]): void;
}

/** The page's `window`, as `drawCharts` sees it. */
export interface ReportWindow {
  readonly document: ReportDocument;
  /** uPlot's IIFE build defines it on the page, inlined before the drawing script. */
  readonly uPlot: typeof uPlot;
  readonly devicePixelRatio: number;
  readonly console: { error(...data: unknown[]): void };
  addEventListener(type: 'resize', listener: () => void): void;
  setTimeout(handler: () => void, timeoutMs: number): number;
  clearTimeout(id: number | undefined): void;
}
