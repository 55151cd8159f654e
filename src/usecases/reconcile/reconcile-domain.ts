/**
 * reconcile(domain), the one flow every trigger funnels into (docs/design.md, "The one flow"): desired ports from the
 * cache, actual from each definition, and a write only where they differ, guarded by a re-read.
 */
import type { Element } from '@xmldom/xmldom';
import type { PortChange } from '../../core/compare';
import { findNovaElement, parseDomain, type Domain } from '../../core/domain';
import { elementFingerprint } from '../../core/element-fingerprint';
import { portMacs } from '../../core/history';
import { injectPorts } from '../../core/inject';
import { metadataPayload } from '../../core/metadata-payload';
import type { Definition, Port, Vif } from '../../core/model';
import type { ReadPort } from '../../core/ports-xml';
import { SystemError } from '../../errors';
import type { CacheStore } from '../../adapters/cache-store';
import { dumpXml, setNovaMetadata, type DomainRef } from '../../adapters/virsh/domains';
import type { VirshSession } from '../../adapters/virsh/session';
import { VirshError } from '../../adapters/virsh/virsh-error';
import type { Observed, Outcome } from './outcome';

export interface ReconcileContext {
  readonly virsh: VirshSession;
  readonly cache: CacheStore;
  readonly dryRun: boolean;
}

/** How often the nova element may change under us before we give up on this domain for this run. */
const MAX_ATTEMPTS = 3;

interface Plan {
  readonly definition: Definition;
  readonly domain: Domain;
  readonly instance: Element;
  /** The element as read, before our change: the re-read guard compares against it. */
  readonly before: string;
}

export async function reconcileDomain(ctx: ReconcileContext, ref: DomainRef): Promise<Outcome> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const outcome = await attemptOnce(ctx, ref);
    if (outcome !== 'changed-under-us') return outcome;
  }
  throw new SystemError(`the nova element of ${ref.name} kept changing while being reconciled (${MAX_ATTEMPTS} attempts)`);
}

async function attemptOnce(ctx: ReconcileContext, ref: DomainRef): Promise<Outcome | 'changed-under-us'> {
  const plans = await readDefinitions(ctx.virsh, ref);
  const first = plans[0];
  const identity = { domain: ref.name, uuid: ref.uuid, projectId: first?.domain.nova?.projectId };
  if (!first) return { ...identity, kind: 'not-nova' };

  const cached = ctx.cache.read(ref.uuid);
  const found = first.domain.nova?.ports ?? null;
  if (cached.kind === 'missing') return { ...identity, kind: 'no-cache', ports: found ?? [], observed: observed(first.domain, found, [], []) };
  if (cached.kind === 'invalid') return { ...identity, kind: 'error', reason: cached.error.message };

  const writes = plan(plans, cached.vifs);
  const desired = writes.desired;
  const seen = observed(first.domain, found, desired, cached.vifs);
  if (writes.changed.length === 0) return { ...identity, kind: 'in-sync', ports: desired, observed: seen };
  const changes = Object.fromEntries(writes.changed.map((w) => [w.definition, w.changes]));
  if (ctx.dryRun) return { ...identity, kind: 'would-repair', changes, ports: found ?? [], observed: seen };

  for (const w of writes.changed) {
    // Re-read the way it was read: `virsh metadata` prints the element without its namespace,
    // so its fingerprint could never equal the one taken from dumpxml.
    const now = await dumpXml(ctx.virsh, ref.uuid, { inactive: w.definition === 'persistent' });
    const nowElement = findNovaElement(parseDomain(now, `${ref.name} (${w.definition})`).element);
    if (!nowElement || elementFingerprint(nowElement) !== w.before) return 'changed-under-us';
  }
  await write(ctx.virsh, ref, writes.changed);
  return { ...identity, kind: 'repaired', changes, ports: desired, observed: seen };
}

/** What the first definition held as read, and the MAC of every port named there or desired. */
function observed(domain: Domain, found: readonly ReadPort[] | null, desired: readonly Port[], vifs: readonly Vif[]): Observed {
  const ids = [...(found ?? []), ...desired].map((p) => p.id);
  return { name: domain.nova?.displayName, found, macs: portMacs(ids, domain.interfaces, vifs) };
}

/** The nova element of each definition that has one: live first for a running guest, then persistent. */
async function readDefinitions(virsh: VirshSession, ref: DomainRef): Promise<Plan[]> {
  const definitions: Definition[] = ref.active ? ['live', 'persistent'] : ['persistent'];
  const plans: Plan[] = [];
  for (const definition of definitions) {
    let xml: string;
    try {
      xml = await dumpXml(virsh, ref.uuid, { inactive: definition === 'persistent' });
    } catch (err) {
      // A transient guest has no persistent definition: there is nothing to keep true there.
      if (definition === 'persistent' && err instanceof VirshError && /transient/i.test(err.stderr)) continue;
      throw err;
    }
    const domain = parseDomain(xml, `${ref.name} (${definition})`);
    const instance = domain.nova && findNovaElement(domain.element);
    if (!instance) continue;
    plans.push({ definition, domain, instance, before: elementFingerprint(instance) });
  }
  return plans;
}

interface Write extends Plan {
  readonly changes: readonly PortChange[];
  readonly payload: string;
}

/** Injects the desired ports into each definition's DOM; `desired` is the first definition's. */
function plan(plans: readonly Plan[], vifs: readonly Vif[]): { changed: Write[]; desired: readonly Port[] } {
  const changed: Write[] = [];
  let desired: readonly Port[] | undefined;
  for (const p of plans) {
    const result = injectPorts(p.domain, vifs);
    if (result.kind === 'not-nova') continue;
    desired ??= result.ports;
    if (result.kind === 'changed') changed.push({ ...p, changes: result.changes, payload: metadataPayload(p.instance) });
  }
  return { changed, desired: desired ?? [] };
}

/** One `virsh metadata` call for both definitions when they end up identical, else one each. */
async function write(virsh: VirshSession, ref: DomainRef, writes: readonly Write[]): Promise<void> {
  const [a, b] = writes;
  if (a && b && a.payload === b.payload && a.instance.namespaceURI === b.instance.namespaceURI) {
    await setNovaMetadata(virsh, ref.uuid, a.instance.namespaceURI ?? '', a.payload, { live: true, persistent: true });
    return;
  }
  for (const w of writes) {
    const live = w.definition === 'live';
    await setNovaMetadata(virsh, ref.uuid, w.instance.namespaceURI ?? '', w.payload, { live, persistent: !live });
  }
}
