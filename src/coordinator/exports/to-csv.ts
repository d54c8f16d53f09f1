import { stringify } from 'csv-stringify/sync';

/**
 * Rows as RFC 4180 CSV. Names come from plans and servers, so a cell starting with `=`, `+`, `-` or
 * `@` is escaped: a spreadsheet shows it as text instead of running it as a formula.
 */
export function toCsv(rows: Array<Array<string | number | boolean | null>>): string {
  return stringify(rows, { escape_formulas: true, cast: { boolean: (value) => String(value) } });
}
