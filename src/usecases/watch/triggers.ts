/**
 * Which libvirt events and cache files make the watcher reconcile a domain (docs/design.md, "Triggers"), as pure
 * functions of what was seen.
 */
import { isNovaNamespace } from '../../core/nova-namespace';
import { parseUuid, type Uuid } from '../../core/model';
import { lifecycleOf, metadataChangeOf, type VirshEvent } from '../../adapters/virsh/event-line';

/** Why a domain is reconciled; shown in the log line (`instance-00000001: repaired (device-added)`). */
export type Reason = 'device-added' | 'device-removed' | 'metadata-change' | 'defined' | 'started' | 'migrated' | 'undefined' | 'cache';

/**
 * The reason an event gives to reconcile its domain, or undefined. A metadata change in another
 * namespace (or of the description/title) cannot touch nova's element, so it is ignored; one in a
 * nova namespace is either nova overwriting us or our own write, which the next reconcile finds in
 * sync and leaves alone (so it converges instead of looping).
 */
export function eventReason(e: VirshEvent): Reason | undefined {
  switch (e.type) {
    case 'device-added':
    case 'device-removed':
      return e.type;
    case 'metadata-change': {
      const change = metadataChangeOf(e);
      // An unreadable detail costs one needless, harmless reconcile; a missed change costs drift.
      if (!change) return 'metadata-change';
      return change.kind === 'element' && change.uri !== undefined && isNovaNamespace(change.uri) ? 'metadata-change' : undefined;
    }
    case 'lifecycle': {
      const lifecycle = lifecycleOf(e);
      if (lifecycle?.event === 'Defined') return 'defined';
      // An incoming migration starts the guest paused inside the migration's job, which every
      // write waits for (a long one would hold up the watcher's queue for the whole migration):
      // its `Resumed Migrated` at the end is when it runs here. Any other start (boot, restore,
      // snapshot, wakeup) is done when it is reported.
      if (lifecycle?.event === 'Started') return lifecycle.detail === 'Migrated' ? undefined : 'started';
      if (lifecycle?.event === 'Resumed' && lifecycle.detail === 'Migrated') return 'migrated';
      // Its job finds no domain, and records the instance gone from the address history.
      if (lifecycle?.event === 'Undefined') return 'undefined';
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The instance a cache directory entry belongs to: `<uuid>.json` exactly. The cache writes by
 * temp + rename, so its temp names (anything else) are ignored: the rename itself reports the
 * final name.
 */
export function cacheFileUuid(fileName: string): Uuid | undefined {
  const m = /^(.{36})\.json$/.exec(fileName);
  return m?.[1] === undefined ? undefined : parseUuid(m[1]);
}
