/**
 * The exports for people who analyse a run elsewhere: `--csv DIR` (windows.csv, percentiles.csv,
 * from the report) and `--requests FILE` (the shards' request samples, from the phase results).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../../shared/run-report';
import type { ShardResult } from '../../shared/shard-result';
import { renderPercentilesCsv } from './percentiles-csv';
import { writeRequestLog } from './request-log-jsonl';
import { renderWindowsCsv } from './windows-csv';

export interface ExportRequest {
  csvDir?: string;
  /** The file, and each phase's merged result in the report's phase order (null for a phase without one). */
  requests?: { file: string; phaseResults: Array<ShardResult | null> };
}

/** Writes what was asked; returns the paths written, with the number of request lines. */
export async function writeExports(report: RunReport, request: ExportRequest): Promise<string[]> {
  const written: string[] = [];
  if (request.csvDir !== undefined) {
    await mkdir(request.csvDir, { recursive: true });
    const windowsPath = join(request.csvDir, 'windows.csv');
    const percentilesPath = join(request.csvDir, 'percentiles.csv');
    await writeFile(windowsPath, renderWindowsCsv(report));
    await writeFile(percentilesPath, renderPercentilesCsv(report));
    written.push(windowsPath, percentilesPath);
  }
  if (request.requests) {
    const { file, phaseResults } = request.requests;
    const phases = report.phases.map((phase, index) => ({ phase: phase.name, requests: phaseResults[index]?.requestLog ?? [] }));
    const lines = await writeRequestLog(file, phases);
    written.push(`${file} (${lines} request${lines === 1 ? '' : 's'})`);
  }
  return written;
}
