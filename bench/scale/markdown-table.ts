/** Markdown tables for the scale-out bench's output: one row per object, columns from the first row. */
export type Row = Record<string, string | number>;

export function markdownTable(title: string, rows: readonly Row[], note?: string): string {
  const columns = Object.keys(rows[0] ?? {});
  const lines = [`\n### ${title}\n`];
  if (note) lines.push(`${note}\n`);
  lines.push(`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) lines.push(`| ${columns.map((column) => row[column] ?? '').join(' | ')} |`);
  return lines.join('\n');
}

/** `1234.5` -> `1,235`; null -> `-`. */
export function whole(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : Math.round(value).toLocaleString('en-US');
}

/** Fixed decimals; null -> `-`. */
export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}
