/**
 * Domain names to UUIDs, for the watcher: libvirt's events name a domain, the cache names an
 * instance by UUID, and the watcher keys its work by UUID so that both reach the same job. The
 * map is filled from libvirt's listing and read again when a name is unknown or was (re)defined.
 */
import type { Uuid } from '../../core/model';
import type { Libvirt } from '../../adapters/libvirt/libvirt';

export class DomainNames {
  private readonly uuids = new Map<string, Uuid>();

  constructor(private readonly libvirt: Libvirt) {}

  /** The domain's UUID, or undefined when libvirt has no domain of that name (any more). */
  async uuidOf(name: string, options: { fresh?: boolean } = {}): Promise<Uuid | undefined> {
    const known = options.fresh ? undefined : this.uuids.get(name);
    if (known) return known;
    await this.refresh();
    return this.uuids.get(name);
  }

  async refresh(): Promise<void> {
    const refs = await this.libvirt.listDomains();
    this.uuids.clear();
    for (const r of refs) this.uuids.set(r.name, r.uuid);
  }
}
