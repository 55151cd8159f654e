/**
 * The domains on this host, for the read commands (`list`, `find`, `show`): from libvirt's own
 * XML files when they are this daemon's and readable (no libvirt call: cheap, and works while the
 * daemon is busy), otherwise from one `virsh` session.
 *
 * When the files are read: when the operator named either XML directory (flag or config file),
 * or when the URI is the local system daemon's (none given, `qemu:///system`,
 * `qemu+unix:///system`): the default directories belong to that daemon only. Any other URI
 * (remote, `qemu:///session`, a private daemon's `?socket=`) goes to virsh. A directory that
 * cannot be listed (not root, missing: the daemon never ran) also goes to virsh, saying so in one
 * line on stderr, since the answer then costs a libvirt connection. The virsh adapter (and the process
 * with it) is imported only then: the file path must stay cheap.
 */
import { InputError, NotFoundError, quote } from '../errors';
import type { Io } from '../io';
import type { Domain } from '../core/domain';
import { parseUuid } from '../core/model';
import { parseDomain } from '../core/domain';
import type { Definition } from '../core/model';
import { DEFAULTS, type Settings } from './settings';
import { scanDomainXmlDirs, type DomainXmlScan, type ScanOptions } from './domain-xml-files';

export type { Definition } from '../core/model';

export interface InventoryEntry {
  readonly domain: Domain;
  readonly definition: Definition;
}

const AMPERSAND = Buffer.from('&');
const LOCAL_SYSTEM_URIS = new Set(['qemu:///system', 'qemu+unix:///system']);

/** Whether the XML directories in `settings` describe the daemon the URI names. */
export function readsXmlFiles(settings: Pick<Settings, 'uri' | 'liveXmlDir' | 'persistentXmlDir'>): boolean {
  // Named empty: there are none to read (a daemon in a container whose volumes are not visible).
  if (settings.liveXmlDir === '' || settings.persistentXmlDir === '') return false;
  const dirsNamed = settings.liveXmlDir !== DEFAULTS.liveXmlDir || settings.persistentXmlDir !== DEFAULTS.persistentXmlDir;
  return dirsNamed || settings.uri === undefined || LOCAL_SYSTEM_URIS.has(settings.uri.replace(/\/$/, ''));
}

/**
 * Every domain (nova's or not), sorted by name. `mayMatch` (see ScanOptions) lets a caller that
 * wants few domains skip parsing the others; domains it rejects may or may not be returned.
 */
export async function allDomains(settings: Settings, io: Io, options: ScanOptions = {}): Promise<InventoryEntry[]> {
  const files = fromFiles(settings, io, options);
  const entries = files ?? (await fromVirsh(settings, io, options));
  return entries.sort((a, b) => compare(a.domain.name, b.domain.name));
}

/**
 * One domain by UUID, else by domain name, else by nova's instance name (`web-1`, what `list`
 * shows) when only one instance has it. Throws NotFoundError when there is none.
 */
export async function oneDomain(settings: Settings, io: Io, nameOrUuid: string): Promise<InventoryEntry> {
  if (readsXmlFiles(settings)) {
    // A file that holds neither the text (a UUID in any case) nor an entity or character
    // reference (`&amp;` in a name) cannot be the one.
    const text = Buffer.from(nameOrUuid, 'utf8');
    const uuid = parseUuid(nameOrUuid);
    const uuidAnyCase = uuid === undefined ? undefined : new RegExp(uuid, 'i');
    const mayMatch = (bytes: Buffer) =>
      bytes.includes(text) || bytes.includes(AMPERSAND) || uuidAnyCase?.test(bytes.toString('latin1')) === true;
    const entries = fromFiles(settings, io, { mayMatch });
    if (entries) return pick(entries, nameOrUuid);
  }
  const { VirshSession } = await import('./virsh/session');
  const { resolveDomain, dumpXml } = await import('./virsh/domains');
  const session = new VirshSession({ uri: settings.uri });
  try {
    const ref = await resolveDomain(session, nameOrUuid);
    const xml = await dumpXml(session, ref.uuid, { inactive: !ref.active });
    return { domain: parseDomain(xml, `domain ${quote(ref.name)}`), definition: ref.active ? 'live' : 'persistent' };
  } catch (err) {
    // Not a domain name or UUID libvirt knows: perhaps nova's name for an instance.
    if (!(err instanceof NotFoundError)) throw err;
  } finally {
    await session.close();
  }
  return pick(await fromVirsh(settings, io, {}), nameOrUuid);
}

function pick(entries: InventoryEntry[], nameOrUuid: string): InventoryEntry {
  const uuid = parseUuid(nameOrUuid);
  const byUuid = uuid && entries.find((e) => e.domain.uuid === uuid);
  if (byUuid) return byUuid;
  const byName = entries.filter((e) => e.domain.name === nameOrUuid);
  const matches = byName.length ? byName : entries.filter((e) => e.domain.nova?.displayName === nameOrUuid);
  const [first, second] = matches;
  if (!first) throw new NotFoundError(`no domain or instance named ${quote(nameOrUuid)}, and no domain with that UUID`);
  if (second) throw new InputError('domain', `${quote(nameOrUuid)} names several domains (${first.domain.uuid}, ${second.domain.uuid}): give the UUID`);
  return first;
}

/** The domains from the XML files; undefined when they are not to be read or cannot be. */
function fromFiles(settings: Settings, io: Io, options: ScanOptions): InventoryEntry[] | undefined {
  if (!readsXmlFiles(settings)) return undefined;
  const scan: DomainXmlScan = scanDomainXmlDirs({ live: settings.liveXmlDir, persistent: settings.persistentXmlDir }, options);
  if (scan.kind === 'unreadable') {
    io.err(`nova-ipmeta: cannot read ${scan.dir} (${scan.code}): asking libvirt${settings.uri ? ` at ${settings.uri}` : ''} instead\n`);
    return undefined;
  }
  for (const s of scan.skipped) io.err(`nova-ipmeta: warning: ${s.path}: ${s.problem}; skipped\n`);
  return scan.domains.map(({ domain, definition }) => ({ domain, definition }));
}

async function fromVirsh(settings: Settings, io: Io, options: ScanOptions): Promise<InventoryEntry[]> {
  const { VirshSession } = await import('./virsh/session');
  const { listDomains, dumpXml } = await import('./virsh/domains');
  const { VirshError } = await import('./virsh/virsh-error');
  const session = new VirshSession({ uri: settings.uri });
  try {
    const entries: InventoryEntry[] = [];
    for (const ref of await listDomains(session)) {
      let xml: string;
      try {
        xml = await dumpXml(session, ref.uuid, { inactive: !ref.active });
      } catch (err) {
        // Undefined (or a transient guest stopped) since the listing: it is not on the host any more.
        if (err instanceof VirshError && /domain not found|failed to get domain/i.test(err.stderr)) continue;
        throw err;
      }
      if (options.mayMatch && !options.mayMatch(Buffer.from(xml, 'utf8'))) continue;
      const source = `domain ${quote(ref.name)}`;
      try {
        entries.push({ domain: parseDomain(xml, source), definition: ref.active ? 'live' : 'persistent' });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        io.err(`nova-ipmeta: warning: ${err.message}; skipped\n`);
      }
    }
    return entries;
  } finally {
    await session.close();
  }
}

/** Plain code-unit order: the same on every host and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
