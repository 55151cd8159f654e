/**
 * The domain XML libvirt keeps on disk for itself (docs/design.md, "Facts about libvirt"): `/run/libvirt/qemu/<name>.xml` for
 * each running guest (its live definition, inside `<domstatus>`), `/etc/libvirt/qemu/<name>.xml`
 * for each defined one. Reading them costs no libvirt call, which is what makes `find` cheap on a
 * host with a thousand guests. A running guest is reported from its live file (it is what is true
 * now), a stopped one from its persistent file; the two are paired by file name (libvirt names
 * both after the domain) and by UUID.
 *
 * libvirt replaces these files by rename, so a reader never sees one half-written. Measured on
 * libvirt 9.0, the live directory also holds `driver.pid`, `<name>.pid`, `autostarted` and the
 * directories `dbus/`, `passt/`, `slirp/`; the persistent one `autostart/` and `networks/`: none
 * is an `*.xml` regular file. An `*.xml` whose root is neither `<domain>` nor `<domstatus>` is
 * ignored silently; one that cannot be read or parsed is reported and skipped.
 *
 * The scan's domains are read without a DOM where the file is plain XML (core/lean-xml.ts, as
 * libvirt writes them), by the DOM otherwise: they are for reading (list, find, show, doctor,
 * the sync's instance list), never to be written back.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { InputError, messageOf } from '../errors';
import { decodeUtf8, readRegularFile } from './file-read';
import { errnoCode } from './os-error';
import { factsOf, readDomain, type Domain, type DomainFacts } from '../core/domain';
import { parseUuid, type Definition, type Uuid } from '../core/model';
import { MAX_XML_BYTES, parseXml } from '../core/xml-document';
import { parseLeanXml } from '../core/lean-xml';
import { searchKeys } from '../core/lookup';
import type { FindIndex, IndexHit } from './find-index';

export interface DomainXmlDirs {
  readonly live: string;
  readonly persistent: string;
}

export interface DomainFromFile {
  readonly domain: DomainFacts;
  readonly definition: Definition;
  readonly path: string;
}

/** A file that looked like a domain but could not be read or parsed: reported, never fatal. */
export interface SkippedFile {
  readonly path: string;
  readonly problem: string;
}

export interface DomainXmlScan {
  /** The domains the caller wants (see ScanOptions.mayMatch). */
  readonly domains: DomainFromFile[];
  readonly skipped: SkippedFile[];
  /**
   * Every domain the files hold, wanted or not, by UUID, with the definition a file gives for it
   * (`live` when it runs): what the files cover, so that a caller asks libvirt for the rest only.
   */
  readonly covered: ReadonlyMap<Uuid, Definition>;
  /** A directory that could not be listed (absent: a daemon in a container; not root...): it counts as empty. */
  readonly unreadable: readonly { readonly dir: string; readonly code: string }[];
}

export interface ScanOptions {
  /**
   * A cheap test on a file's raw bytes: false only when the file certainly holds nothing the
   * caller wants, so it is not parsed (the parse is what costs, against a few microseconds to
   * read and search one). The bytes are a view into a reused buffer, valid during the call only.
   */
  readonly mayMatch?: (bytes: Buffer) => boolean;
  /** find's index (./find-index.ts), loaded for the word the caller looks for. */
  readonly index?: FindIndex;
}

export function scanDomainXmlDirs(dirs: DomainXmlDirs, options: ScanOptions = {}): DomainXmlScan {
  const scan = new Scan(options.mayMatch, options.index);
  const unreadable: { dir: string; code: string }[] = [];
  // The running guests first: a guest that runs is reported from its live file (what is true
  // now), and its persistent file is then passed over: by file name, which spares reading it at
  // all (libvirt names both files after the domain and keeps names unique among its domains),
  // and by UUID.
  for (const [dir, definition] of [
    [dirs.live, 'live'],
    [dirs.persistent, 'persistent'],
  ] as const) {
    const listed = listXmlFiles(dir);
    if (listed.kind === 'unreadable') unreadable.push({ dir, code: listed.code });
    else scan.dir(dir, listed.files, definition);
  }
  return { domains: scan.domains, skipped: scan.skipped, covered: scan.covered, unreadable };
}

/**
 * The domains of the files find's index named (./find-index.ts, `holding`), read now; undefined
 * when one of them no longer holds the domain indexed, and the caller scans instead.
 */
export function readIndexedFiles(dirs: DomainXmlDirs, hits: readonly IndexHit[]): DomainFromFile[] | undefined {
  const reader = new FileReader();
  const domains: DomainFromFile[] = [];
  for (const { definition, name, uuid } of hits) {
    const path = inDir(dirs[definition], name);
    const bytes = reader.read(path, false);
    const parsed = bytes.kind === 'read' ? parseDomainFile(bytes.data, path, 'lean') : undefined;
    if (parsed?.kind !== 'domain' || parsed.domain.uuid !== uuid) return undefined;
    domains.push({ domain: factsOf(parsed.domain), definition, path });
  }
  return domains;
}

/** Where a system daemon keeps them, as it sees its own files (libvirt's compiled-in paths). */
const DAEMON_DIRS: DomainXmlDirs = { live: '/run/libvirt/qemu', persistent: '/etc/libvirt/qemu' };
const DAEMON_COMMS = new Set(['libvirtd', 'virtqemud']);

/**
 * Whether the files in `dirs` are all the domains of a running daemon, so that they answer alone
 * (docs/design.md, "libvirt's own XML files"): the qemu driver's `driver.pid` in the live
 * directory names a running libvirtd or virtqemud, and that daemon either sees the same files as
 * this process (same mount namespace: the directory holding its own pid file is its live
 * directory, and the directories named are taken as its own) or, seen through
 * `/proc/PID/root`, keeps its live and persistent XML in the very directories named (a daemon in
 * a container whose volumes were pointed at, the test harness's private daemon). Anything else
 * (no pid file, a daemon in another PID namespace, the host's own empty `/etc/libvirt/qemu` beside
 * a containerized daemon) is not proof: the caller then asks libvirt for what the files lack.
 */
export function daemonKeepsDirs(dirs: DomainXmlDirs, procDir = '/proc'): boolean {
  let pid: number;
  try {
    const text = readRegularFile(inDir(dirs.live, 'driver.pid'), { maxBytes: 32 }).toString('latin1').trim();
    if (!/^[1-9]\d{0,9}$/.test(text)) return false;
    pid = Number(text);
  } catch {
    return false;
  }
  const proc = `${procDir}/${pid}`;
  if (!DAEMON_COMMS.has(readSmall(`${proc}/comm`)?.trim() ?? '')) return false;
  const ownNs = readLinkOrUndefined(`${procDir}/self/ns/mnt`);
  if (ownNs !== undefined && readLinkOrUndefined(`${proc}/ns/mnt`) === ownNs) return true;
  return sameDirectory(`${proc}/root${DAEMON_DIRS.live}`, dirs.live) && sameDirectory(`${proc}/root${DAEMON_DIRS.persistent}`, dirs.persistent);
}

function sameDirectory(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.isDirectory() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function readLinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** What one file gave: nothing to count, a domain passed over unparsed (its UUID when read cheaply), or a domain parsed. */
type Seen = { readonly kind: 'nothing' } | { readonly kind: 'passed'; readonly uuid: Uuid | undefined } | { readonly kind: 'parsed'; readonly domain: Domain; readonly wanted: boolean };
const NOTHING: Seen = { kind: 'nothing' };

/** One pass over the two directories, remembering which domains were seen in which. */
class Scan {
  readonly domains: DomainFromFile[] = [];
  readonly skipped: SkippedFile[] = [];
  readonly covered = new Map<Uuid, Definition>();
  private readonly reader = new FileReader();
  private readonly uuids: Record<Definition, Set<Uuid>> = { live: new Set(), persistent: new Set() };
  private readonly runningFiles = new Set<string>();

  constructor(
    private readonly mayMatch: ScanOptions['mayMatch'],
    private readonly index: FindIndex | undefined,
  ) {}

  dir(dir: string, files: readonly XmlFile[], definition: Definition): void {
    for (const file of files) {
      if (definition === 'persistent' && this.runningFiles.has(file.name)) continue;
      const path = inDir(dir, file.name);
      const seen = this.index && !file.symlink ? this.indexed(path, file, definition, this.index) : this.filtered(path, file, definition);
      if (file.symlink) this.index?.partial();
      this.account(seen, path, file.name, definition);
    }
  }

  /** The file read, passed over when the caller's filter says it cannot be wanted (unless `wanted`), parsed otherwise. */
  private filtered(path: string, file: XmlFile, definition: Definition, want: 'as-filtered' | 'wanted' = 'as-filtered'): Seen {
    const bytes = this.read(path, file.symlink);
    if (bytes === undefined) return NOTHING;
    const wanted = want === 'wanted' || !this.mayMatch || this.mayMatch(bytes);
    if (!wanted) {
      // Not parsed, but covered; a live file still marks its guest as running, so its persistent file is passed over.
      const uuid = cheapUuid(bytes);
      // Without a UUID read cheaply, a live file is parsed for it; a persistent one counts as not covered: the caller may ask libvirt.
      if (uuid || definition === 'persistent') return { kind: 'passed', uuid };
    }
    if (definition === 'persistent') {
      const uuid = cheapUuid(bytes);
      if (uuid && this.uuids.live.has(uuid)) return NOTHING;
    }
    const parsed = parseDomainFile(bytes, path, 'lean');
    if (parsed.kind === 'not-a-domain') return NOTHING;
    if (parsed.kind === 'invalid') {
      this.skip(path, parsed.problem);
      return NOTHING;
    }
    return { kind: 'parsed', domain: parsed.domain, wanted };
  }

  /**
   * The same through find's index: a file indexed under the identity it has now is read only when
   * its domain has the word looked for; any other that has stood still long enough is read,
   * parsed whole, and learned.
   */
  private indexed(path: string, file: XmlFile, definition: Definition, index: FindIndex): Seen {
    const look = index.look(definition, file.name, path);
    if (look.kind === 'indexed') {
      if (look.uuid === null) return NOTHING;
      // Its domain has the word: read and parsed, whatever the caller's filter would say.
      return look.holds ? this.filtered(path, file, definition, 'wanted') : { kind: 'passed', uuid: look.uuid };
    }
    if (look.identity === undefined) {
      // Changed a moment ago: not to be learned yet, so read as without the index (a host
      // starting its guests changes most of its files, and would otherwise parse them all).
      index.partial();
      return this.filtered(path, file, definition);
    }
    const bytes = this.read(path, false);
    if (bytes === undefined) {
      index.partial();
      return NOTHING;
    }
    const parsed = parseDomainFile(bytes, path, 'lean');
    if (parsed.kind === 'not-a-domain') {
      index.learn(definition, file.name, look.identity, null);
      return NOTHING;
    }
    if (parsed.kind === 'invalid') {
      index.partial();
      // Reported only where it might have held the term, as without the index.
      if (!this.mayMatch || this.mayMatch(bytes)) this.skip(path, parsed.problem);
      return NOTHING;
    }
    const keys = searchKeys(parsed.domain);
    index.learn(definition, file.name, look.identity, { uuid: parsed.domain.uuid, keys });
    return { kind: 'parsed', domain: parsed.domain, wanted: index.wants(keys) };
  }

  /** The file's bytes (a view into the reused buffer); undefined when it could not be read (reported, unless it is gone). */
  private read(path: string, symlink: boolean): Buffer | undefined {
    const bytes = this.reader.read(path, symlink);
    if (bytes.kind === 'read') return bytes.data;
    // Gone since the listing: a guest stopped meanwhile (its persistent file counts), or undefined.
    if (bytes.code !== 'ENOENT') this.skip(path, `cannot read: ${bytes.code}`);
    return undefined;
  }

  /** What a file seen tells: which domains run, which are covered, which are wanted. */
  private account(seen: Seen, path: string, name: string, definition: Definition): void {
    if (seen.kind === 'nothing') return;
    if (seen.kind === 'passed') {
      const { uuid } = seen;
      if (uuid && definition === 'live') {
        this.uuids.live.add(uuid);
        this.runningFiles.add(name);
      }
      if (uuid && !this.covered.has(uuid)) this.covered.set(uuid, definition);
      return;
    }
    const { domain, wanted } = seen;
    if (definition === 'persistent' && this.uuids.live.has(domain.uuid)) return;
    if (this.uuids[definition].has(domain.uuid)) {
      this.skip(path, `another ${definition} file has the same UUID ${domain.uuid}`);
      return;
    }
    this.uuids[definition].add(domain.uuid);
    if (!this.covered.has(domain.uuid)) this.covered.set(domain.uuid, definition);
    if (definition === 'live') this.runningFiles.add(name);
    // Its facts alone: the document it was read from is left to the collector at once.
    if (wanted) this.domains.push({ domain: factsOf(domain), definition, path });
  }

  private skip(path: string, problem: string): void {
    this.skipped.push({ path, problem });
  }
}

export interface XmlFile {
  readonly name: string;
  /** A symbolic link (an operator's setup, never libvirt's): what it points to is checked first. */
  readonly symlink: boolean;
}

export function listXmlFiles(dir: string): { kind: 'listed'; files: XmlFile[] } | { kind: 'unreadable'; dir: string; code: string } {
  try {
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.name.endsWith('.xml') && (e.isFile() || e.isSymbolicLink()))
      .map((e) => ({ name: e.name, symlink: e.isSymbolicLink() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { kind: 'listed', files };
  } catch (err) {
    return { kind: 'unreadable', dir, code: errorCode(err) };
  }
}

/**
 * Reads whole files into one reused buffer: for a thousand files, a thousand open/read/close and
 * no allocation each (measured: reading each into a new string costs as much again, half of it
 * in the garbage collector). The bytes are a view, valid until the next read.
 */
export class FileReader {
  private buffer = Buffer.allocUnsafe(256 * 1024);

  read(path: string, symlink: boolean): { kind: 'read'; data: Buffer } | { kind: 'error'; code: string } {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO (behind a symbolic link) fails instead of blocking the open.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      return { kind: 'error', code: errorCode(err) };
    }
    try {
      // What a symbolic link points to must be a regular file (a FIFO would never end, nor /dev/zero).
      if (symlink) {
        const target = fstatSync(fd);
        if (!target.isFile()) return { kind: 'error', code: target.isDirectory() ? 'EISDIR' : 'not a regular file' };
      }
      let length = 0;
      for (;;) {
        if (length === this.buffer.length) {
          if (length > MAX_XML_BYTES) return { kind: 'error', code: 'EFBIG' };
          const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
          this.buffer.copy(bigger, 0, 0, length);
          this.buffer = bigger;
        }
        const room = this.buffer.length - length;
        const n = readSync(fd, this.buffer, length, room, null);
        length += n;
        // A regular file gives less than asked only at its end: no second read to see 0.
        if (n < room) break;
      }
      return { kind: 'read', data: this.buffer.subarray(0, length) };
    } catch (err) {
      return { kind: 'error', code: errorCode(err) };
    } finally {
      closeSync(fd);
    }
  }
}

export type ParsedFile =
  | { readonly kind: 'domain'; readonly domain: Domain }
  /** Some other XML file: ignored silently. */
  | { readonly kind: 'not-a-domain' }
  /** A file that should have been a domain and is not readable as one: reported. */
  | { readonly kind: 'invalid'; readonly problem: string };

export function parseDomainFile(bytes: Buffer, path: string, reading: 'dom' | 'lean' = 'dom'): ParsedFile {
  try {
    const text = decodeUtf8(bytes, path);
    const lean = reading === 'lean' ? readLeanDomain(text, path) : undefined;
    if (lean) return { kind: 'domain', domain: lean };
    const part = domainOfStatus(text);
    if (part !== undefined) {
      try {
        return { kind: 'domain', domain: readDomain(parseXml(part, path), path) };
      } catch {
        // Not exactly the <domain> child after all: the whole file decides.
      }
    }
    const doc = parseXml(text, path);
    const root = doc.documentElement;
    if (root?.namespaceURI !== null || (root.localName !== 'domain' && root.localName !== 'domstatus')) return { kind: 'not-a-domain' };
    return { kind: 'domain', domain: readDomain(doc, path) };
  } catch (err) {
    if (err instanceof InputError) return { kind: 'invalid', problem: err.problem };
    throw err;
  }
}

/**
 * The domain of a file's text read without a DOM (core/lean-xml.ts), from a status file its
 * `<domain>` alone; undefined when the text is not plain, or not a domain that reads: the DOM then
 * decides, and says what is wrong. For reading only: nothing is ever written from it.
 */
export function readLeanDomain(text: string, path: string): Domain | undefined {
  const lean = parseLeanXml(domainOfStatus(text) ?? text);
  if (!lean) return undefined;
  try {
    return readDomain(lean.document, path);
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
}

const DOMAIN_START = /<domain[\s/>]/g;
const STATUS_END = /^\s*<\/domstatus\s*>\s*$/;

/**
 * The `<domain>` child of a libvirt status file (`<domstatus>`), as text to parse alone: the
 * status file's own children (some 200 `<flag>`s of QEMU capabilities...) are half its size and
 * two thirds of its parse time, cold. Undefined (parse the whole file) unless that text is
 * exactly what the whole file's parse would give:
 *  - from the `<domstatus` start tag to the first `<domain`, no `<!` (comment, CDATA, DOCTYPE),
 *    no `<?` and no `xmlns`: every `<` there starts a tag, so this `<domain` is the first domain
 *    element, and it inherits no namespace;
 *  - after the last `</domain>`, only `</domstatus>`;
 *  - and the caller's parseXml of the text alone must succeed: one element from that start tag
 *    to that end tag, which (the file ending with `</domstatus>`) is a child of the root.
 * The one difference: a status file broken before its `<domain>` still gives its domain.
 */
export function domainOfStatus(text: string): string | undefined {
  const root = rootStart(text);
  if (root < 0 || !text.startsWith('<domstatus', root) || !/[\s>]/.test(text.charAt(root + 10))) return undefined;
  DOMAIN_START.lastIndex = root;
  const start = DOMAIN_START.exec(text)?.index;
  if (start === undefined) return undefined;
  const before = text.slice(root, start);
  if (before.includes('<!') || before.includes('<?') || before.includes('xmlns')) return undefined;
  const end = text.lastIndexOf('</domain>');
  if (end < start || !STATUS_END.test(text.slice(end + 9))) return undefined;
  return text.slice(start, end + 9);
}

/** The text from its root element on (after white space, the XML declaration and comments); undefined when there is none. */
export function fromRoot(text: string): string | undefined {
  const at = rootStart(text);
  return at < 0 ? undefined : text.slice(at);
}

/** Where the root element starts: after white space, the XML declaration and comments. */
function rootStart(text: string): number {
  let at = 0;
  for (;;) {
    while (at < text.length && ' \t\r\n'.includes(text.charAt(at))) at++;
    const [open, close] = text.startsWith('<?', at) ? ['<?', '?>'] : text.startsWith('<!--', at) ? ['<!--', '-->'] : [];
    if (open === undefined || close === undefined) return text.startsWith('<', at) ? at : -1;
    const end = text.indexOf(close, at + open.length);
    if (end < 0) return -1;
    at = end + close.length;
  }
}

/**
 * The domain's UUID read without parsing: the text of the first `<uuid>` after the `<domain`
 * start tag, where libvirt always writes it (second child, after `<name>`); undefined when that
 * is not plainly there, and the caller parses the file instead. Used only to pass over a
 * persistent file whose guest runs, or a live file nobody asked for.
 */
// Buffers, not strings, to search with: Buffer#indexOf converts a string needle at every call.
const DOMAIN_OPEN = Buffer.from('<domain');
const UUID_OPEN = Buffer.from('<uuid>');
const UUID_CLOSE = Buffer.from('</uuid>');

function cheapUuid(bytes: Buffer): Uuid | undefined {
  let at = 0;
  for (;;) {
    at = bytes.indexOf(DOMAIN_OPEN, at);
    if (at < 0) return undefined;
    // `<domain>` or `<domain type=...>`, not `<domainfoo>`.
    const next = bytes[at + 7];
    if (next === 0x3e || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d) break;
    at += 7;
  }
  const open = bytes.indexOf(UUID_OPEN, at);
  if (open < 0) return undefined;
  const close = bytes.indexOf(UUID_CLOSE, open);
  if (close < 0 || close - open > 100) return undefined;
  return parseUuid(bytes.toString('latin1', open + 6, close).trim());
}

/** path.join's normalisation, a thousand times over, shows in `find`'s profile; names have no slash. */
function inDir(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function errorCode(err: unknown): string {
  return errnoCode(err) ?? messageOf(err);
}
