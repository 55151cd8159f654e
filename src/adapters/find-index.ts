/**
 * `find`'s index of libvirt's domain files (docs/design.md, "find's index"): for each file `find`
 * read, the words its domain can be found by (core/lookup.ts, `searchKeys`), kept under the
 * file's identity (./file-identity.ts); and, when every file of both directories is in it and
 * neither directory has changed since, the directories' identities.
 *
 * - Both directories as the index has them (libvirt replaces its files by rename, which changes
 *   the directory): `holding` names the few files to read, found by searching the index's text;
 *   no other file is looked at.
 * - Otherwise the caller lists and reads as without an index, and `look` spares it reading and
 *   parsing each file whose identity is the one indexed; the files it does read are learned.
 *
 * Kept only for files and directories that had stood still for a while (SETTLED_MS), and only
 * for the build that made it. A find loads it for the one word it looks for (core/lookup.ts,
 * `termKey`).
 * The index is the state directory's `find-index` (0600, written atomically); `find` never
 * creates the directory, and an index that cannot be read or written is no index: it only ever
 * spares reading.
 */
import type { BigIntStats } from 'node:fs';
import { parseUuid, type Definition, type Uuid } from '../core/model';
import { directoryIdentity, regularFileWord, SETTLED_MS } from './file-identity';
import { runningBuild } from './running-build';
import { inspectPrivateDir } from './state-dir';
import { readStateBytes, writeStateFile } from './state-file';
import type { DomainXmlDirs } from './domain-xml-files';

export const FIND_INDEX_FILE = 'find-index';
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const VERSION = 1;
const NEWLINE = 0x0a;

/** What a file held: a domain's UUID and the words it can be found by, or null for XML that is not a domain. */
export type IndexedFile = { readonly uuid: Uuid; readonly keys: readonly string[] } | null;

/** A file `holding` names, and the domain it held. */
export interface IndexHit {
  readonly definition: Definition;
  readonly name: string;
  readonly uuid: Uuid;
}

interface Header {
  readonly version: number;
  readonly build: string;
  readonly live: string;
  readonly persistent: string;
  /** Both directories' identities when every file in them is indexed; null otherwise. */
  readonly dirs: string | null;
  /** The length of what follows the header line: an index cut short is no index. */
  readonly bytes: number;
}

/**
 * One line per file: its definition, its name (JSON), its identity, its domain's UUID (`-`: not a
 * domain) and its words (a JSON array), separated by tabs, which JSON writes escaped: the first
 * two fields are the file's key, and a look at a file splits its line, parsing nothing.
 */
const TAB = '\t';

export class FindIndex {
  /** The index's lines by their key, split out when a scan first looks at a file. */
  private entries: Map<string, string> | undefined;
  private readonly next: string[] = [];
  private learned = false;
  private whole = true;

  private constructor(
    /** The word looked for, and how every line writes it (JSON.stringify writes a string one way only). */
    private readonly key: string,
    private readonly needle: string,
    private readonly build: string,
    private readonly dirs: DomainXmlDirs,
    private readonly header: Header | undefined,
    /** The index after its header line. */
    private readonly body: Buffer,
    /** Both directories' identities when the index was loaded, before the caller lists them. */
    private readonly dirsBefore: DirsNow | undefined,
    private readonly nowMs: () => number,
  ) {}

  /**
   * The index of `stateDir` for these directories, for a find of `key`; undefined when there is
   * no state directory or the running build cannot be told.
   */
  static load(stateDir: string, dirs: DomainXmlDirs, key: string, options: { build?: string; nowMs?: () => number } = {}): FindIndex | undefined {
    const build = options.build ?? runningBuild();
    if (build === undefined) return undefined;
    try {
      if (inspectPrivateDir(stateDir) === 'missing') return undefined;
    } catch {
      return undefined; // a directory others could write to: nothing read from it or written in it
    }
    let bytes: Buffer | undefined;
    try {
      bytes = readStateBytes(stateDir, FIND_INDEX_FILE, MAX_INDEX_BYTES);
    } catch {
      // A file that cannot be trusted or read: no index, and the next one written replaces it
      // (by rename, in a directory that can be trusted), as the in-sync memo's does.
    }
    const newline = bytes?.indexOf(NEWLINE) ?? -1;
    let header: Header | undefined;
    try {
      const h = bytes === undefined || newline < 0 ? undefined : (JSON.parse(bytes.toString('utf8', 0, newline)) as Partial<Header>);
      const fits = h?.version === VERSION && h.build === build && h.live === dirs.live && h.persistent === dirs.persistent;
      if (fits && bytes !== undefined && h.bytes === bytes.length - newline - 1) header = h as Header;
    } catch {
      // not JSON: an empty index
    }
    // Kept as bytes: `holding` searches them, and decodes only the lines it finds.
    const body = header === undefined || bytes === undefined ? Buffer.alloc(0) : bytes.subarray(newline + 1);
    return new FindIndex(key, JSON.stringify(key), build, dirs, header, body, dirsNow(dirs), options.nowMs ?? Date.now);
  }

  /**
   * When both directories are as they were when every file in them was indexed: the files whose
   * domain has the word (and perhaps a few more: the caller reads them and decides). Undefined
   * otherwise.
   */
  holding(): IndexHit[] | undefined {
    const dirs = this.header?.dirs;
    if (dirs === null || dirs === undefined || dirs !== this.dirsBefore?.word) return undefined;
    const bytes = Buffer.from(this.needle, 'utf8');
    const hits: IndexHit[] = [];
    for (let at = this.body.indexOf(bytes); at >= 0; ) {
      const start = this.body.lastIndexOf(NEWLINE, at) + 1;
      const end = this.body.indexOf(NEWLINE, at);
      const line = fieldsOf(this.body.toString('utf8', start, end < 0 ? undefined : end));
      const name = line && fileNameOf(line.name);
      if (line === undefined || name === undefined) return undefined;
      if (line.uuid !== null && this.holds(line.keys)) hits.push({ definition: line.definition, name, uuid: line.uuid });
      if (end < 0) break;
      at = this.body.indexOf(bytes, end);
    }
    return hits;
  }

  /**
   * What the file held, if it has the identity it had when indexed (it is then kept for the next
   * index): its domain's UUID (null: not a domain) and whether the domain has the word. Otherwise
   * the identity to `learn` it under once read: undefined when it has not stood still long enough
   * to be indexed.
   */
  look(definition: Definition, name: string, path: string): { kind: 'indexed'; uuid: Uuid | null; holds: boolean } | { kind: 'unknown'; identity: string | undefined } {
    let id;
    try {
      id = regularFileWord(path);
    } catch {
      id = undefined;
    }
    if (id === undefined) return { kind: 'unknown', identity: undefined };
    const line = this.lines().get(lineKey(definition, name));
    const fields = line === undefined ? undefined : fieldsOf(line);
    if (line !== undefined && fields?.identity === id.word) {
      this.next.push(line);
      return { kind: 'indexed', uuid: fields.uuid, holds: fields.uuid !== null && this.holds(fields.keys) };
    }
    return { kind: 'unknown', identity: this.settled(id.mtimeMs, id.ctimeMs) ? id.word : undefined };
  }

  /** What a file read after `look` held, under the identity `look` gave. */
  learn(definition: Definition, name: string, identity: string, file: IndexedFile): void {
    this.next.push(lineOf(definition, name, identity, file));
    this.learned = true;
  }

  /** A file of the directories that is not in the next index (a symbolic link, one that could not be read or not yet learned): `holding` cannot answer from it. */
  partial(): void {
    this.whole = false;
  }

  /**
   * When `complete` (the directories are provably the daemon's, and the caller looked at every
   * file and found nothing amiss), writes the files looked at and learned, if that changes
   * anything; with the directories' identities when every file is in it and neither directory
   * has changed since `load` or had changed shortly before.
   */
  save(stateDir: string, complete: boolean): void {
    // Files that are not provably the daemon's are not indexed: another pair of directories
    // (an operator's --live-xml-dir, the install's warm-up) must not replace the host's index.
    if (!complete) return;
    const before = this.dirsBefore;
    const after = dirsNow(this.dirs);
    const whole = this.whole && before !== undefined && after?.word === before.word && before.stats.every((s) => this.settled(Number(s.mtimeNs / 1_000_000n), Number(s.ctimeNs / 1_000_000n)));
    const dirs = whole ? before.word : null;
    const unchanged = !this.learned && this.next.length === this.lines().size && dirs === (this.header?.dirs ?? null) && this.header !== undefined;
    if (unchanged) return;
    const body = this.next.length === 0 ? '' : `${this.next.join('\n')}\n`;
    const header: Header = { version: VERSION, build: this.build, live: this.dirs.live, persistent: this.dirs.persistent, dirs, bytes: Buffer.byteLength(body) };
    try {
      writeStateFile(stateDir, FIND_INDEX_FILE, `${JSON.stringify(header)}\n${body}`);
    } catch {
      // A read command does not fail for its index: the next find reads the files.
    }
  }

  /** Whether a domain with these words is what the find looks for. */
  wants(keys: readonly string[]): boolean {
    return keys.includes(this.key);
  }

  /** Whether a line's words (its JSON array) hold the word: searched as written first, parsed only when found. */
  private holds(keys: string): boolean {
    if (!keys.includes(this.needle)) return false;
    try {
      const words = JSON.parse(keys) as unknown;
      return Array.isArray(words) && words.includes(this.key);
    } catch {
      return true; // unreadable: read the file, which decides
    }
  }

  private settled(mtimeMs: number, ctimeMs: number): boolean {
    return Math.max(mtimeMs, ctimeMs) < this.nowMs() - SETTLED_MS;
  }

  private lines(): Map<string, string> {
    if (this.entries === undefined) {
      this.entries = new Map();
      for (const line of this.body.toString('utf8').split('\n')) {
        const second = line.indexOf(TAB, line.indexOf(TAB) + 1);
        if (second > 0) this.entries.set(line.slice(0, second), line);
      }
    }
    return this.entries;
  }
}

interface DirsNow {
  readonly word: string;
  readonly stats: readonly BigIntStats[];
}

function dirsNow(dirs: DomainXmlDirs): DirsNow | undefined {
  try {
    const [live, persistent] = [directoryIdentity(dirs.live), directoryIdentity(dirs.persistent)];
    return live && persistent ? { word: `${live.word} ${persistent.word}`, stats: [live.stats, persistent.stats] } : undefined;
  } catch {
    return undefined;
  }
}

function lineOf(definition: Definition, name: string, identity: string, file: IndexedFile): string {
  return [definition, JSON.stringify(name), identity, file?.uuid ?? '-', JSON.stringify(file?.keys ?? [])].join(TAB);
}

/** The key of a file's line (its definition and name, as the line writes them). */
const lineKey = (definition: Definition, name: string) => `${definition}${TAB}${JSON.stringify(name)}`;

/**
 * The fields of a line, found by position (a look at each of a thousand files splits out nothing
 * it does not compare); undefined when it is not one. The name stays as the line writes it (JSON).
 */
function fieldsOf(line: string): { definition: Definition; name: string; identity: string; uuid: Uuid | null; keys: string } | undefined {
  const a = line.indexOf(TAB);
  const b = line.indexOf(TAB, a + 1);
  const c = line.indexOf(TAB, b + 1);
  const d = line.indexOf(TAB, c + 1);
  // No tab at all leaves each search from the start finding none: a, b, c and d all -1.
  if (a < 0 || b < 0 || c < 0 || d < 0 || line.includes(TAB, d + 1)) return undefined;
  const definition = line.slice(0, a);
  if (definition !== 'live' && definition !== 'persistent') return undefined;
  const uuid = line.slice(c + 1, d);
  const parsedUuid = uuid === '-' ? null : parseUuid(uuid);
  if (parsedUuid === undefined) return undefined;
  return { definition, name: line.slice(a + 1, b), identity: line.slice(b + 1, c), uuid: parsedUuid, keys: line.slice(d + 1) };
}

/** A line's file name (JSON), when it names a file of the directory as the scan lists them: never a path elsewhere. */
function fileNameOf(json: string): string | undefined {
  try {
    const n = JSON.parse(json) as unknown;
    return typeof n === 'string' && n.endsWith('.xml') && !n.includes('/') && n !== '.xml' ? n : undefined;
  } catch {
    return undefined;
  }
}
