/**
 * Where a run ran and against what: the harness (hosts, cores, Node, grym-perf version) and the
 * target (kind, base URL, models, the mock's settings, the server's version where it said it). Two
 * runs with different fingerprints measured different things; a comparison says so, field by field.
 */
import type { RunReport } from '../../shared/run-report';
import { canonicalHash } from './canonical-hash';

export interface EnvironmentFingerprint {
  /** First 12 hex digits of the sha256 of `harness` and `target`: what `history` lists. */
  hash: string;
  harness: {
    /** Every machine that ran a shard (the coordinator's when none is known), sorted. */
    hosts: string[];
    cores: number[];
    node: string[];
    platform: string;
    version: string;
    mode: RunReport['mode'];
  };
  target: {
    kind: string;
    /** The server's base URL (credentials removed); null for the built-in mock (its port changes every run). */
    baseUrl: string | null;
    models: string[];
    /** sha256 (12 hex) of the built-in mock's settings: a mock with another TTFT is another server. */
    mock: string | null;
    /** What the server said its version was, when it did. */
    serverVersion: string | null;
  };
}

const sortedUnique = <T>(values: T[]): T[] => [...new Set(values)].sort();

interface PlanTarget {
  kind?: string;
  baseUrl?: string;
  module?: string;
  mock?: unknown;
}

export function environmentFingerprint(report: RunReport, serverVersion: string | null = null): EnvironmentFingerprint {
  const plan = (report.resolvedPlan ?? {}) as { target?: PlanTarget; phases?: Array<{ models?: string[] }> };
  const target = plan.target ?? {};
  const workers = report.workers.length > 0 ? report.workers : [{ host: report.tool.host, node: report.tool.node, cpus: 0 }];
  const harness = {
    hosts: sortedUnique(workers.map((worker) => worker.host)),
    cores: sortedUnique(workers.map((worker) => worker.cpus)),
    node: sortedUnique(workers.map((worker) => worker.node)),
    platform: report.tool.platform,
    version: report.tool.version,
    mode: report.mode,
  };
  const mock = target.mock === undefined ? null : canonicalHash(target.mock).slice(0, 12);
  const fingerprintTarget = {
    kind: target.kind ?? 'openai',
    baseUrl: mock !== null ? null : (target.baseUrl ?? target.module ?? null),
    models: sortedUnique((plan.phases ?? []).flatMap((phase) => phase.models ?? [])),
    mock,
    serverVersion: serverVersion ?? (mock !== null ? `grym-perf mock-llm ${report.tool.version}` : null),
  };
  return { hash: canonicalHash({ harness, target: fingerprintTarget }).slice(0, 12), harness, target: fingerprintTarget };
}

/** "harness.hosts: ci-1 → ci-7", one line per field that differs; empty when the two are alike. */
export function fingerprintDifferences(base: EnvironmentFingerprint, next: EnvironmentFingerprint): string[] {
  const lines: string[] = [];
  for (const part of ['harness', 'target'] as const) {
    const a = base[part] as Record<string, unknown>;
    const b = next[part] as Record<string, unknown>;
    for (const key of Object.keys({ ...a, ...b })) {
      const shownA = JSON.stringify(a[key] ?? null);
      const shownB = JSON.stringify(b[key] ?? null);
      if (shownA !== shownB) lines.push(`${part}.${key}: ${shownA} → ${shownB}`);
    }
  }
  return lines;
}
