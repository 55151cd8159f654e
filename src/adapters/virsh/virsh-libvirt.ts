/**
 * The libvirt calls through one long-running virsh (./session.ts): for any URI virsh takes
 * (a remote daemon, a daemon that asks for SASL) and when the config says `[libvirt] client = virsh`.
 */
import type { Uuid } from '../../core/model';
import type { DomainRef, Libvirt } from '../libvirt/libvirt';
import { dumpXml, listDomains, setNovaMetadata, transientUuids } from './domains';
import { VirshSession, type VirshSessionOptions } from './session';

export class VirshLibvirt implements Libvirt {
  readonly session: VirshSession;

  constructor(options: VirshSessionOptions) {
    this.session = new VirshSession(options);
  }

  get calls(): number {
    return this.session.stats.commands;
  }

  listDomains(): Promise<DomainRef[]> {
    return listDomains(this.session);
  }

  transientUuids(): Promise<ReadonlySet<Uuid>> {
    return transientUuids(this.session);
  }

  dumpXml(ref: DomainRef, opts: { inactive: boolean }): Promise<string> {
    return dumpXml(this.session, ref.uuid, opts);
  }

  setNovaMetadata(ref: DomainRef, uri: string, payload: string, target: { live: boolean; persistent: boolean }): Promise<void> {
    return setNovaMetadata(this.session, ref.uuid, uri, payload, target);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
