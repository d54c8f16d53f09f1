import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** grym-perf's version from its package.json, found from both src/ (tsx) and dist/src/ (built). */
export function toolVersion(): string {
  if (cached) return cached;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'grym-perf' && manifest.version) return (cached = manifest.version);
    }
  }
  return (cached = '0.0.0-unknown');
}
