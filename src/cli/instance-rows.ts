/**
 * The rows `list` and `find` print (one per address, see core/address-rows), with which of
 * libvirt's definitions each was read from, and their columns: one declaration for the table,
 * JSON and CSV.
 */
import { addressRows, type AddressRow } from '../core/address-rows';
import type { InventoryEntry, Definition } from '../adapters/domain-inventory';
import type { Column } from './output';

export interface InstanceRow extends AddressRow {
  readonly definition: Definition;
}

export function instanceRows(entry: InventoryEntry): InstanceRow[] {
  return addressRows(entry.domain).map((r) => ({ ...r, definition: entry.definition }));
}

/** The table leaves the project out: it is wide, and `-c`, JSON and CSV have it. */
export const INSTANCE_COLUMNS: readonly Column<InstanceRow>[] = [
  { key: 'domain', header: 'DOMAIN', value: (r) => r.domain },
  { key: 'instanceId', header: 'INSTANCE', value: (r) => r.instanceId },
  { key: 'name', header: 'NAME', value: (r) => r.name },
  { key: 'projectId', header: 'PROJECT', value: (r) => r.projectId, inTable: false },
  { key: 'portId', header: 'PORT', value: (r) => r.portId },
  { key: 'address', header: 'ADDRESS', value: (r) => r.address },
  { key: 'type', header: 'TYPE', value: (r) => r.type },
  { key: 'ipVersion', header: 'VERSION', value: (r) => r.ipVersion },
  { key: 'definition', header: 'DEFINITION', value: (r) => r.definition },
];
