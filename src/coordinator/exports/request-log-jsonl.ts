/**
 * `--requests FILE`: one JSON line per kept request, phase by phase in start order. Each line says
 * how many measured requests it stands for (`weight`): 1 when the phase sent fewer than the cap,
 * more when the shards kept a uniform sample so a long soak cannot fill the disk.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { RequestLogEntry } from '../../shared/shard-result';

export interface PhaseRequestLog {
  phase: string;
  requests: RequestLogEntry[];
}

export async function writeRequestLog(file: string, phases: PhaseRequestLog[]): Promise<number> {
  const out = createWriteStream(file);
  let lines = 0;
  for (const { phase, requests } of phases) {
    for (const request of [...requests].sort((a, b) => a.startMs - b.startMs)) {
      const line = `${JSON.stringify({ phase, start: new Date(request.startMs).toISOString(), ...request })}\n`;
      lines++;
      // once() rejects when the stream fails, so a full disk ends the wait instead of hanging it.
      if (!out.write(line)) await once(out, 'drain');
    }
  }
  out.end();
  await finished(out);
  return lines;
}
