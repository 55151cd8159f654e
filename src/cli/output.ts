/**
 * How the listing commands print rows, the way the OpenStack CLI does: `-f table|json|csv|value`
 * and `-c COLUMN` (repeatable). A command declares its columns once; the JSON keys, the CSV
 * header and the table's headers all come from that declaration.
 *
 * Nothing a domain name, a file or a server said reaches the terminal raw: control characters
 * (ESC, BEL, C1...) are shown escaped in tables, CSV and values, and as JSON escapes in JSON.
 */
import { UsageError } from '../errors';
import type { OutputFormat } from './options';

export type Cell = string | number | null;

export interface Column<R> {
  /** The JSON key and CSV header: camelCase. */
  readonly key: string;
  /** The table's header: upper case. */
  readonly header: string;
  readonly value: (row: R) => Cell;
  /** Shown in the table when no `-c` is given (wide columns are left to `-c`, JSON and CSV). */
  readonly inTable?: boolean;
}

export interface ListingArgs {
  readonly format: OutputFormat;
  readonly column: readonly string[];
  readonly json: boolean;
}

/** `--json` is `-f json`; naming another format as well is a contradiction. */
export function listingFormat(args: ListingArgs): OutputFormat {
  if (args.json && args.format !== 'json' && args.format !== 'table') {
    throw new UsageError(`--json and --format ${args.format} exclude each other`);
  }
  return args.json ? 'json' : args.format;
}

export function formatListing<R>(rows: readonly R[], columns: readonly Column<R>[], args: ListingArgs): string {
  const format = listingFormat(args);
  const shown = selectColumns(columns, args.column, format);
  switch (format) {
    case 'json':
      return `${jsonText(rows.map((r) => Object.fromEntries(shown.map((c) => [c.key, c.value(r)]))))}\n`;
    case 'csv':
      return formatCsv(
        shown.map((c) => c.key),
        rows.map((r) => shown.map((c) => cellText(c.value(r)))),
      );
    case 'value':
      return rows.map((r) => `${shown.map((c) => printable(cellText(c.value(r)))).join(' ')}\n`).join('');
    case 'table':
      return formatTable(
        shown.map((c) => c.header),
        rows.map((r) => shown.map((c) => cellText(c.value(r)) || '-')),
      );
  }
}

function selectColumns<R>(columns: readonly Column<R>[], names: readonly string[], format: OutputFormat): readonly Column<R>[] {
  if (names.length === 0) return format === 'table' ? columns.filter((c) => c.inTable !== false) : columns;
  return names.map((name) => {
    const wanted = name.toLowerCase();
    const column = columns.find((c) => c.key.toLowerCase() === wanted || c.header.toLowerCase() === wanted);
    if (!column) throw new UsageError(`-c ${name}: no such column; columns: ${columns.map((c) => c.key).join(', ')}`);
    return column;
  });
}

function cellText(cell: Cell): string {
  return cell === null ? '' : String(cell);
}

/** A plain-text table for people: columns padded, two spaces apart, the last one not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const safe = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...safe.map(line)].join('\n')}\n`;
}

/** RFC 4180 CSV for spreadsheets. */
export function formatCsv(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (c: string) => {
    const text = printable(c);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** JSON, indented, with DEL and C1 controls escaped too (JSON.stringify leaves them raw). */
export function jsonText(value: unknown): string {
   
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Control characters shown as escapes (`\x1b`), so that text cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
