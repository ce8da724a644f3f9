import { stringify as toYaml } from 'yaml';
import { usageError } from './errors.js';

/** `--output`: a table for people, JSON or YAML (the API's own objects) for scripts. */
export type OutputFormat = 'table' | 'json' | 'yaml';

/** Parses `--output`. @throws CliError (exit 2) for another value */
export function outputFormat(value: string | undefined): OutputFormat {
  const v = value ?? 'table';
  if (v === 'table' || v === 'json' || v === 'yaml') return v;
  throw usageError(`--output must be table, json or yaml, not "${v}"`);
}

/** A table column: its heading and how a row's cell is read. */
export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
}

const cell = (v: unknown): string => (v === undefined || v === null || v === '' ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Rows as aligned columns (kubectl style): a heading line, two spaces between columns. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.get(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((v, i) => (i === line.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** Writes `data` to stdout: JSON or YAML as is, or the table/lines `human` renders. */
export function print(format: OutputFormat, data: unknown, human: () => string): void {
  const text = format === 'json' ? JSON.stringify(data, null, 2) : format === 'yaml' ? toYaml(data).trimEnd() : human();
  if (text !== '') process.stdout.write(`${text}\n`);
}

/**
 * Writes a list: JSON/YAML arrays, or a table. An empty table is said on stderr (as kubectl
 * does), so stdout stays empty for scripts.
 */
export function printList<T>(format: OutputFormat, rows: T[], columns: Column<T>[]): void {
  if (format === 'table' && rows.length === 0) return progress('No resources found.');
  print(format, rows, () => formatTable(rows, columns));
}

/** `key: value` lines of an object's scalar fields, for `show` in table form. */
export function formatFields(fields: [string, unknown][]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cell(v)}`).join('\n');
}

/** A line of progress on stderr (never mixed into the data on stdout). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
