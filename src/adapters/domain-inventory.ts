/**
 * The domains on this host, for the read commands (`list`, `find`, `show`): from libvirt's own
 * XML files where they can be seen (no libvirt call: cheap, and works while the daemon is busy),
 * and from one libvirt connection (adapters/libvirt) for every domain the daemon has that the files do not cover
 * (docs/design.md, "libvirt's own XML files").
 *
 * When the files are read at all: when the operator named either XML directory (flag or config
 * file), or when the URI is the local system daemon's (none given, `qemu:///system`,
 * `qemu+unix:///system`): the default directories belong to that daemon only. Any other URI
 * (remote, `qemu:///session`, a private daemon's `?socket=`) goes to libvirt alone, and so do
 * directories named empty (none to read).
 *
 * When the files answer alone: when they are provably the running daemon's (daemonKeepsDirs).
 * Otherwise (a directory missing or empty, a daemon in another mount namespace such as
 * kolla-ansible's nova_libvirt container, no daemon to prove it) the daemon's own listing decides
 * which domains exist and which definition counts for each (live when it runs), a file is used
 * where it gives that definition, and `dumpxml` fills in the rest: "not found" then means not
 * found. The libvirt adapters are imported only then: the file path must
 * stay cheap.
 */
import { InputError, NotFoundError, quote } from '../errors';
import type { Io } from '../io';
import { factsOf, parseDomain, type DomainFacts } from '../core/domain';
import { mayHoldTerm } from '../core/may-hold';
import { parseUuid, type Definition } from '../core/model';
import { DEFAULTS, type Settings } from './settings';
import { daemonKeepsDirs, readIndexedFiles, scanDomainXmlDirs, type DomainXmlScan, type ScanOptions } from './domain-xml-files';
import { FindIndex } from './find-index';
import type { DomainRef, Libvirt } from './libvirt/libvirt';

export type { Definition } from '../core/model';

export interface InventoryEntry {
  readonly domain: DomainFacts;
  readonly definition: Definition;
}

const LOCAL_SYSTEM_URIS = new Set(['qemu:///system', 'qemu+unix:///system']);

/** Whether the XML directories in `settings` describe the daemon the URI names. */
export function readsXmlFiles(settings: Pick<Settings, 'uri' | 'liveXmlDir' | 'persistentXmlDir'>): boolean {
  // Named empty: there are none to read (a daemon in a container whose volumes are not visible).
  if (settings.liveXmlDir === '' || settings.persistentXmlDir === '') return false;
  const dirsNamed = settings.liveXmlDir !== DEFAULTS.liveXmlDir || settings.persistentXmlDir !== DEFAULTS.persistentXmlDir;
  return dirsNamed || settings.uri === undefined || LOCAL_SYSTEM_URIS.has(settings.uri.replace(/\/$/, ''));
}

export interface InventoryOptions {
  readonly mayMatch?: ScanOptions['mayMatch'];
  /**
   * `find`'s word for what it looks for (core/lookup.ts, `termKey`): the files are read through
   * find's index in the state directory (./find-index.ts), and only domains that have the word
   * are returned.
   */
  readonly indexKey?: string;
}

/**
 * Every domain (nova's or not), sorted by name. `mayMatch` (see ScanOptions) lets a caller that
 * wants few domains skip parsing the others; domains it rejects may or may not be returned.
 */
export async function allDomains(settings: Settings, io: Io, options: InventoryOptions = {}): Promise<InventoryEntry[]> {
  const files = fromFiles(settings, io, options);
  const entries = files?.complete ? files.entries : await withLibvirt(settings, (libvirt) => completed(libvirt, files, io, options));
  return entries.sort((a, b) => compare(a.domain.name, b.domain.name));
}

/**
 * One domain by UUID, else by domain name, else by nova's instance name (`web-1`, what `list`
 * shows) when only one instance has it. Throws NotFoundError when there is none.
 */
export async function oneDomain(settings: Settings, io: Io, nameOrUuid: string): Promise<InventoryEntry> {
  // find's pre-filters: a file that holds neither the text nor the UUID in any case (nor an
  // entity or character reference) cannot be the one.
  const uuid = parseUuid(nameOrUuid);
  const byText = mayHoldTerm({ kind: 'text', text: nameOrUuid });
  const byUuid = uuid === undefined ? undefined : mayHoldTerm({ kind: 'uuid', uuid });
  const mayMatch = (bytes: Buffer) => byText(bytes) || byUuid?.(bytes) === true;
  const files = fromFiles(settings, io, { mayMatch });
  if (files?.complete) return pick(files.entries, nameOrUuid);
  return withLibvirt(settings, async (libvirt) => {
    const refs = await libvirt.listDomains();
    const byUuid = uuid && refs.find((r) => r.uuid === uuid);
    const ref = byUuid || refs.find((r) => r.name === nameOrUuid);
    if (ref) {
      const fromFile = files?.entries.find((e) => e.domain.uuid === ref.uuid && e.definition === definitionOf(ref));
      if (fromFile) return fromFile;
      const xml = await libvirt.dumpXml(ref, { inactive: !ref.active });
      return { domain: factsOf(parseDomain(xml, `domain ${quote(ref.name)}`)), definition: definitionOf(ref) };
    }
    // Not a domain name or UUID libvirt knows: perhaps nova's name for an instance.
    return pick(await completed(libvirt, files, io, {}, refs), nameOrUuid);
  });
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

interface FromFiles {
  readonly entries: InventoryEntry[];
  readonly covered: DomainXmlScan['covered'];
  /** The files are provably every domain of the daemon: no libvirt call is needed. */
  readonly complete: boolean;
}

/** The domains from the XML files; undefined when they are not to be read. */
function fromFiles(settings: Settings, io: Io, options: InventoryOptions): FromFiles | undefined {
  if (!readsXmlFiles(settings)) return undefined;
  const dirs = { live: settings.liveXmlDir, persistent: settings.persistentXmlDir };
  const index = options.indexKey === undefined ? undefined : FindIndex.load(settings.stateDir, dirs, options.indexKey);
  // Neither directory changed since every file was indexed: the files named are all there is to read.
  const hits = index?.holding();
  const read = hits && daemonKeepsDirs(dirs) ? readIndexedFiles(dirs, hits) : undefined;
  if (read) return { entries: read.map(({ domain, definition }) => ({ domain, definition })), covered: new Map(), complete: true };
  const scan = scanDomainXmlDirs(dirs, { ...(options.mayMatch && { mayMatch: options.mayMatch }), ...(index && { index }) });
  // Absent is what a containerized daemon looks like from the host: libvirt fills in without a
  // word. Anything else (not root...) is worth one line, since the answer then costs a connection.
  for (const u of scan.unreadable) {
    if (u.code !== 'ENOENT') io.err(`nova-ipmeta: cannot read ${u.dir} (${u.code}): asking libvirt${settings.uri ? ` at ${settings.uri}` : ''} instead\n`);
  }
  for (const s of scan.skipped) io.err(`nova-ipmeta: warning: ${s.path}: ${s.problem}; skipped\n`);
  const complete = scan.unreadable.length === 0 && daemonKeepsDirs(dirs);
  index?.save(settings.stateDir, complete && scan.skipped.length === 0);
  return { entries: scan.domains.map(({ domain, definition }) => ({ domain, definition })), covered: scan.covered, complete };
}

/** The connection's work, the connection closed however it ends. */
async function withLibvirt<T>(settings: Settings, work: (libvirt: Libvirt) => Promise<T>): Promise<T> {
  const { openLibvirt } = await import('./libvirt/open');
  const libvirt = await openLibvirt({ uri: settings.uri, client: settings.libvirtClient });
  try {
    return await work(libvirt);
  } finally {
    await libvirt.close();
  }
}

const definitionOf = (ref: DomainRef): Definition => (ref.active ? 'live' : 'persistent');

/**
 * The daemon's domains: each from the files when they give the definition that counts for it,
 * from `dumpxml` otherwise; files of domains the daemon does not have are left out.
 */
async function completed(libvirt: Libvirt, files: FromFiles | undefined, io: Io, options: InventoryOptions, refs?: DomainRef[]): Promise<InventoryEntry[]> {
  const { libvirtFailure } = await import('./libvirt/libvirt');
  const fileEntries = new Map(files?.entries.map((e) => [e.domain.uuid, e]));
  const entries: InventoryEntry[] = [];
  for (const ref of refs ?? (await libvirt.listDomains())) {
    const definition = definitionOf(ref);
    if (files?.covered.get(ref.uuid) === definition) {
      // Read from its file already; absent from the entries when the caller's filter passed it over.
      const entry = fileEntries.get(ref.uuid);
      if (entry) entries.push(entry);
      continue;
    }
    let xml: string;
    try {
      xml = await libvirt.dumpXml(ref, { inactive: !ref.active });
    } catch (err) {
      // Undefined (or a transient guest stopped) since the listing: it is not on the host any more.
      if (libvirtFailure(err) === 'no-domain') continue;
      throw err;
    }
    if (options.mayMatch && !options.mayMatch(Buffer.from(xml, 'utf8'))) continue;
    try {
      entries.push({ domain: factsOf(parseDomain(xml, `domain ${quote(ref.name)}`)), definition });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      io.err(`nova-ipmeta: warning: ${err.message}; skipped\n`);
    }
  }
  return entries;
}

/** Plain code-unit order: the same on every host and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
