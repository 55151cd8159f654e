/**
 * The rows `list` and `find` print: one per address (core/address-rows), plus which of libvirt's
 * definitions it was read from, and one row with no port for an instance that has none, so every
 * instance shows. The same rows as a table for people, JSON for programs, CSV for spreadsheets.
 */
import { InputError } from '../../errors';
import { formatCsv, formatTable } from '../../cli/table';
import { addressRows, type AddressRow } from '../../core/address-rows';
import type { InventoryEntry, Definition } from '../../adapters/domain-inventory';

export interface InstanceRow extends AddressRow {
  readonly definition: Definition;
}

export type OutputFormat = 'table' | 'json' | 'csv';

export function outputFormat(args: { json: boolean; csv: boolean }): OutputFormat {
  if (args.json && args.csv) throw new InputError('usage', '--json and --csv exclude each other');
  return args.json ? 'json' : args.csv ? 'csv' : 'table';
}

/** The rows of a nova instance; none for a domain that is not one. */
export function instanceRows(entry: InventoryEntry): InstanceRow[] {
  const { domain, definition } = entry;
  const nova = domain.nova;
  if (!nova) return [];
  const rows = addressRows(domain).map((r) => ({ ...r, definition }));
  if (rows.length > 0) return rows;
  const base = { domain: domain.name, instanceId: domain.uuid, name: nova.displayName ?? '', projectId: nova.projectId ?? '' };
  return [{ ...base, portId: '', address: '', type: '', ipVersion: '', definition }];
}

const COLUMNS = ['domain', 'instanceId', 'name', 'projectId', 'portId', 'address', 'type', 'ipVersion', 'definition'] as const;
/** The table leaves the project out: it is wide, and `--json`/`--csv` have it. */
const TABLE: readonly [string, (typeof COLUMNS)[number]][] = [
  ['DOMAIN', 'domain'],
  ['INSTANCE', 'instanceId'],
  ['NAME', 'name'],
  ['PORT', 'portId'],
  ['ADDRESS', 'address'],
  ['TYPE', 'type'],
  ['VERSION', 'ipVersion'],
  ['DEFINITION', 'definition'],
];

export function formatRows(rows: readonly InstanceRow[], format: OutputFormat): string {
  switch (format) {
    case 'json':
      // Absent values (no name, a port without address) are null, not "".
      return `${JSON.stringify(
        rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c] === '' ? null : r[c]]))),
        null,
        2,
      )}\n`;
    case 'csv':
      return formatCsv(COLUMNS, rows.map((r) => COLUMNS.map((c) => r[c])));
    case 'table':
      return formatTable(
        TABLE.map(([h]) => h),
        rows.map((r) => TABLE.map(([, c]) => r[c] || '-')),
      );
  }
}
