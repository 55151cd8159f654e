/**
 * reconcile(domain), the one flow every trigger funnels into (docs/design.md, "The one flow"): desired ports from the
 * cache, actual from each definition, and a write only where they differ, guarded by a re-read.
 */
import type { Element } from '@xmldom/xmldom';
import type { PortChange } from '../../core/compare';
import { findNovaElement, parseDomain, type Domain } from '../../core/domain';
import { elementFingerprint } from '../../core/element-fingerprint';
import { portMacs } from '../../core/history';
import { comparePorts, injectPorts } from '../../core/inject';
import { metadataPayload } from '../../core/metadata-payload';
import type { Definition, Port, Vif } from '../../core/model';
import type { ReadPort } from '../../core/ports-xml';
import { InputError, SystemError } from '../../errors';
import type { CacheStore } from '../../adapters/cache-store';
import { libvirtFailure, payloadProblem, type DomainRef, type Libvirt, type TransientDomains } from '../../adapters/libvirt/libvirt';
import type { DomainIdentity, Observed, Outcome } from './outcome';

export interface ReconcileContext {
  readonly libvirt: Libvirt;
  /** Of this run or job: asked at most once. */
  readonly transients: TransientDomains;
  readonly cache: CacheStore;
  readonly dryRun: boolean;
}

/** How often the nova element may change under us before we give up on this domain for this run. */
const MAX_ATTEMPTS = 3;

export interface Plan {
  readonly definition: Definition;
  readonly domain: Domain;
  readonly instance: Element;
  /** The element as read, before our change: the re-read guard compares against it. */
  readonly before: string;
  /** The XML text this definition was read from, when it came from libvirt's file (reconcile-run.ts). */
  readonly readFrom?: string;
}

/**
 * `planned`: the writes a read of libvirt's own files called for (reconcile-run.ts); the first
 * attempt makes them once libvirt's read before each write calls for exactly the same write. Any
 * further attempt reads libvirt.
 */
export async function reconcileDomain(ctx: ReconcileContext, ref: DomainRef, planned?: WriteDecision): Promise<Outcome> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const outcome = await attemptOnce(ctx, ref, attempt === 1 ? planned : undefined);
    if (outcome !== 'changed-under-us') return outcome;
  }
  throw new SystemError(`the nova element of ${ref.name} kept changing while being reconciled (${MAX_ATTEMPTS} attempts)`);
}

async function attemptOnce(ctx: ReconcileContext, ref: DomainRef, planned: WriteDecision | undefined): Promise<Outcome | 'changed-under-us'> {
  const decided = planned ?? decide(ctx, ref, await readDefinitions(ctx.libvirt, ref));
  if (decided.kind !== 'write') return decided;
  // A persistent definition read from its file exists: only libvirt's own read can be a transient guest's.
  const decision = planned ? decided : await withoutTransientConfig(ctx, ref, decided);
  if (decision.kind !== 'write') return decision;
  const { identity, writes, desired, observed: seen } = decision;
  const changes = Object.fromEntries(writes.changed.map((w) => [w.definition, w.changes]));

  for (const w of writes.changed) {
    // Re-read the way it was read: `virsh metadata` prints the element without its namespace,
    // so its fingerprint could never equal the one taken from dumpxml.
    const now = await ctx.libvirt.dumpXml(ref, { inactive: w.definition === 'persistent' });
    // Planned from a file that libvirt's read gives back to the byte: nothing changed meanwhile.
    if (planned && w.readFrom !== undefined && now.trimEnd() === w.readFrom.trimEnd()) continue;
    const nowDomain = parseDomain(now, `${ref.name} (${w.definition})`);
    const nowElement = findNovaElement(nowDomain.element);
    if (!nowElement || elementFingerprint(nowElement) !== w.before) return 'changed-under-us';
    // Planned from a file: libvirt's read must call for this very write (its interfaces too).
    if (planned && !callsFor(nowDomain, w, decision.vifs, `${ref.name} (${w.definition})`)) return 'changed-under-us';
  }
  await write(ctx.libvirt, ref, writes.changed);
  return { ...identity, kind: 'repaired', changes, ports: desired, observed: seen };
}

/**
 * A transient guest has no persistent definition (what `dumpxml --inactive` gave was its live
 * one): nothing to keep true there, and `metadata --config` would fail.
 */
async function withoutTransientConfig(ctx: ReconcileContext, ref: DomainRef, decision: WriteDecision): Promise<Decision> {
  const persistent = decision.writes.changed.filter((w) => w.definition === 'persistent');
  if (!ref.active || persistent.length === 0 || !(await ctx.transients.has(ref.uuid))) return decision;
  const changed = decision.writes.changed.filter((w) => w.definition !== 'persistent');
  if (changed.length > 0) return { ...decision, writes: { changed } };
  return { ...decision.identity, kind: 'in-sync', ports: decision.desired, observed: decision.observed };
}

/** Whether `domain`, as libvirt holds it now, needs exactly the write `w` planned elsewhere. */
function callsFor(domain: Domain, w: Write, vifs: readonly Vif[], source: string): boolean {
  const p = planOf(w.definition, domain);
  if (!p || p.instance.namespaceURI !== w.instance.namespaceURI) return false;
  const result = injectPorts(domain, vifs);
  return result.kind === 'changed' && metadataPayload(p.instance, source) === w.payload;
}

/** What the definitions as read call for: an outcome, or writes (the caller guards and makes them). */
export type Decision = Outcome | WriteDecision;
export interface WriteDecision {
  readonly kind: 'write';
  readonly identity: DomainIdentity;
  readonly writes: { changed: Write[] };
  readonly desired: readonly Port[];
  readonly vifs: readonly Vif[];
  /** What was read and desired, for the address history. */
  readonly observed: Observed;
}

/**
 * The decision from the definitions as read, wherever they were read (libvirt, or its own files:
 * reconcile-run.ts): `plans` holds the definitions with a nova element, live first.
 */
export function decide(ctx: Pick<ReconcileContext, 'cache' | 'dryRun'>, ref: DomainRef, plans: readonly Plan[]): Decision {
  return decideOr(ctx, ref, plans, false) ?? { ...identityOf(ref, plans), kind: 'error', reason: 'no decision' };
}

/**
 * The decision when it needs no write (in sync, no cache, not nova, a cache file in error), made
 * without changing the definitions (they may be read-only: read from libvirt's files, with no guard
 * to write by: planOf); undefined when one of them needs a write.
 */
export function decideWithoutWrite(ctx: Pick<ReconcileContext, 'cache' | 'dryRun'>, ref: DomainRef, plans: readonly Plan[]): Outcome | undefined {
  const decision = decideOr(ctx, ref, plans, true);
  return decision?.kind === 'write' ? undefined : decision;
}

function identityOf(ref: DomainRef, plans: readonly Plan[]): DomainIdentity {
  return { domain: ref.name, uuid: ref.uuid, projectId: plans[0]?.domain.nova?.projectId };
}

function decideOr(ctx: Pick<ReconcileContext, 'cache' | 'dryRun'>, ref: DomainRef, plans: readonly Plan[], withoutWrite: boolean): Decision | undefined {
  const first = plans[0];
  const identity = identityOf(ref, plans);
  if (!first) return { ...identity, kind: 'not-nova' };

  const cached = ctx.cache.read(ref.uuid);
  const found = first.domain.nova?.ports ?? null;
  if (cached.kind === 'missing') return { ...identity, kind: 'no-cache', ports: found ?? [], observed: observed(first.domain, found, [], []) };
  if (cached.kind === 'invalid') return { ...identity, kind: 'error', reason: cached.error.message };

  if (withoutWrite && plans.some((p) => comparePorts(p.domain, cached.vifs).kind === 'changed')) return undefined;
  const writes = plan(plans, cached.vifs);
  const desired = writes.desired;
  const seen = observed(first.domain, found, desired, cached.vifs);
  if (writes.changed.length === 0) return { ...identity, kind: 'in-sync', ports: desired, observed: seen };
  const changes = Object.fromEntries(writes.changed.map((w) => [w.definition, w.changes]));
  if (ctx.dryRun) return { ...identity, kind: 'would-repair', changes, ports: found ?? [], observed: seen };
  return { kind: 'write', identity, writes, desired, vifs: cached.vifs, observed: seen };
}

/** What the first definition held as read, and the MAC of every port named there or desired. */
function observed(domain: Domain, found: readonly ReadPort[] | null, desired: readonly Port[], vifs: readonly Vif[]): Observed {
  const ids = [...(found ?? []), ...desired].map((p) => p.id);
  return { name: domain.nova?.displayName, found, macs: portMacs(ids, domain.interfaces, vifs) };
}

/** The nova element of each definition that has one: live first for a running guest, then persistent. */
async function readDefinitions(libvirt: Libvirt, ref: DomainRef): Promise<Plan[]> {
  const definitions: Definition[] = ref.active ? ['live', 'persistent'] : ['persistent'];
  const plans: Plan[] = [];
  for (const definition of definitions) {
    let xml: string;
    try {
      xml = await libvirt.dumpXml(ref, { inactive: definition === 'persistent' });
    } catch (err) {
      // A transient guest has no persistent definition: there is nothing to keep true there.
      if (definition === 'persistent' && libvirtFailure(err) === 'transient-refusal') continue;
      throw err;
    }
    const p = planOf(definition, parseDomain(xml, `${ref.name} (${definition})`));
    if (p) plans.push(p);
  }
  return plans;
}

/** One definition as read, when it has a nova element. */
export function planOf(definition: Definition, domain: Domain, options: { readOnly?: boolean } = {}): Plan | undefined {
  const instance = domain.nova && findNovaElement(domain.element);
  if (!instance) return undefined;
  // A read-only definition is never written (decideWithoutWrite): no guard to compare with.
  return { definition, domain, instance, before: options.readOnly ? '' : elementFingerprint(instance) };
}

export interface Write extends Plan {
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
    if (result.kind === 'changed') changed.push({ ...p, changes: result.changes, payload: payloadFor(p) });
  }
  return { changed, desired: desired ?? [] };
}

/**
 * The `virsh metadata --set` argument, checked before anything is written: an element that cannot
 * be carried unchanged fails the whole domain (an `error` outcome), never one definition of two.
 */
function payloadFor(p: Plan): string {
  const source = `${p.domain.name} (${p.definition})`;
  const payload = metadataPayload(p.instance, source);
  const problem = payloadProblem(payload);
  if (problem !== undefined) throw new InputError(source, `nova's element cannot be sent to virsh: the payload ${problem}`);
  return payload;
}

/** One `virsh metadata` call for both definitions when they end up identical, else one each. */
async function write(libvirt: Libvirt, ref: DomainRef, writes: readonly Write[]): Promise<void> {
  const [a, b] = writes;
  if (a && b && a.payload === b.payload && a.instance.namespaceURI === b.instance.namespaceURI) {
    await libvirt.setNovaMetadata(ref, a.instance.namespaceURI ?? '', a.payload, { live: true, persistent: true });
    return;
  }
  for (const w of writes) {
    const live = w.definition === 'live';
    await libvirt.setNovaMetadata(ref, w.instance.namespaceURI ?? '', w.payload, { live, persistent: !live });
  }
}
