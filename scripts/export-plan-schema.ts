/**
 * Writes test-plans/plan.schema.json from the zod plan schema, so editors complete and check plan
 * files (`# yaml-language-server: $schema=./plan.schema.json`). `--check` fails when the committed
 * file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planJsonSchema } from '../src/shared/plan-json-schema';

const file = join(__dirname, '..', 'test-plans', 'plan.schema.json');
const text = `${JSON.stringify(planJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (committed !== text) {
    console.error(`${file} is stale: run \`npm run schema\` and commit it`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
