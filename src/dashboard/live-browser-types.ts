/**
 * The few browser objects the live page's script (`followRun`) uses, typed here: the project
 * compiles without the DOM library, and the script must only touch what it is handed. Structural
 * subsets of the DOM's own types.
 */
import type uPlot from 'uplot';

export interface LiveElement {
  textContent: string | null;
  className: string;
  readonly clientWidth: number;
  /** data-* attributes: the page records what it did, for people and tests. */
  readonly dataset: Record<string, string | undefined>;
  append(...nodes: Array<LiveElement | string>): void;
  replaceChildren(...nodes: Array<LiveElement | string>): void;
}

/** A <progress> element: its value and maximum are properties, not style. */
interface LiveProgressElement extends LiveElement {
  value: number;
  max: number;
}

interface LiveDocument {
  getElementById(id: string): LiveElement | null;
  createElement(tag: 'progress'): LiveProgressElement;
  createElement(tag: string): LiveElement;
  readonly body: LiveElement;
}

/** What the script reads of a fetch answer. */
interface LiveResponse {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
}

/** The page's `window`, as `followRun` sees it. */
export interface LiveWindow {
  readonly document: LiveDocument;
  /** uPlot's IIFE build defines it on the page, inlined before the script. */
  readonly uPlot: typeof uPlot;
  readonly location: { reload(): void };
  readonly console: { error(...data: unknown[]): void };
  fetch(url: string, init: { cache: 'no-store'; headers: Record<string, string> }): Promise<LiveResponse>;
  addEventListener(type: 'resize', listener: () => void): void;
  setTimeout(handler: () => void, timeoutMs: number): number;
  clearTimeout(id: number | undefined): void;
}
