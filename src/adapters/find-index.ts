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
 * Kept only for files and directories that had stood still for a while (SETTLED_MS: a change
 * within one tick of the kernel's clock keeps the same time), and only for the build that made it.
 * The index is the state directory's `find-index` (0600, written atomically); `find` never
 * creates the directory, and an index that cannot be read or written is no index: it only ever
 * spares reading.
 */
import type { BigIntStats } from 'node:fs';
import { parseUuid, type Definition, type Uuid } from '../core/model';
import { directoryIdentity, regularFileWord } from './file-identity';
import { runningBuild } from './running-build';
import { inspectPrivateDir } from './state-dir';
import { readStateBytes, writeStateFile } from './state-file';
import type { DomainXmlDirs } from './domain-xml-files';

export const FIND_INDEX_FILE = 'find-index';
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const SETTLED_MS = 2000;
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
    private readonly build: string,
    private readonly dirs: DomainXmlDirs,
    private readonly header: Header | undefined,
    /** The index after its header line. */
    private readonly body: Buffer,
    /** Both directories' identities when the index was loaded, before the caller lists them. */
    private readonly dirsBefore: DirsNow | undefined,
    private readonly nowMs: () => number,
  ) {}

  /** The index of `stateDir` for these directories; undefined when there is no state directory or the running build cannot be told. */
  static load(stateDir: string, dirs: DomainXmlDirs, options: { build?: string; nowMs?: () => number } = {}): FindIndex | undefined {
    const build = options.build ?? runningBuild();
    if (build === undefined) return undefined;
    let bytes: Buffer | undefined;
    try {
      if (inspectPrivateDir(stateDir) === 'missing') return undefined;
      bytes = readStateBytes(stateDir, FIND_INDEX_FILE, MAX_INDEX_BYTES);
    } catch {
      return undefined; // not trusted or not readable: not to be replaced either
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
    return new FindIndex(build, dirs, header, body, dirsNow(dirs), options.nowMs ?? Date.now);
  }

  /**
   * When both directories are as they were when every file in them was indexed: the files whose
   * domain has the word `key` (and perhaps a few more: the caller reads them and decides).
   * Undefined otherwise.
   */
  holding(key: string): IndexHit[] | undefined {
    const dirs = this.header?.dirs;
    if (dirs === null || dirs === undefined || dirs !== this.dirsBefore?.word) return undefined;
    // The word as every line writes it: JSON.stringify writes a string one way only.
    const needle = JSON.stringify(key);
    const bytes = Buffer.from(needle, 'utf8');
    const hits: IndexHit[] = [];
    for (let at = this.body.indexOf(bytes); at >= 0; ) {
      const start = this.body.lastIndexOf(NEWLINE, at) + 1;
      const end = this.body.indexOf(NEWLINE, at);
      const line = fieldsOf(this.body.toString('utf8', start, end < 0 ? undefined : end));
      if (line === undefined) return undefined;
      if (line.uuid !== null && holdsKey(line.keys, key, needle)) hits.push({ definition: line.definition, name: line.name, uuid: line.uuid });
      if (end < 0) break;
      at = this.body.indexOf(bytes, end);
    }
    return hits;
  }

  /**
   * What the file held, if it has the identity it had when indexed (it is then kept for the next
   * index): its domain's UUID (null: not a domain) and whether the domain has the word `key`.
   * Otherwise the identity to `learn` it under once read: undefined when it has not stood still
   * long enough to be indexed.
   */
  look(definition: Definition, name: string, path: string, key: string): { kind: 'indexed'; uuid: Uuid | null; holds: boolean } | { kind: 'unknown'; identity: string | undefined } {
    let id;
    try {
      id = regularFileWord(path);
    } catch {
      id = undefined;
    }
    if (id === undefined) return { kind: 'unknown', identity: undefined };
    const key0 = lineKey(definition, name);
    const line = this.lines().get(key0);
    // The line's identity, UUID and words follow its key, by position: nothing else is split out.
    const at = key0.length + 1;
    const [identityEnd, uuidEnd] = line === undefined ? [-1, -1] : [line.indexOf(TAB, at), line.indexOf(TAB, line.indexOf(TAB, at) + 1)];
    if (line !== undefined && uuidEnd > 0 && line.slice(at, identityEnd) === id.word) {
      const uuid = line.slice(identityEnd + 1, uuidEnd);
      const parsed = uuid === '-' ? null : parseUuid(uuid);
      if (parsed !== undefined) {
        this.next.push(line);
        return { kind: 'indexed', uuid: parsed, holds: parsed !== null && holdsKey(line.slice(uuidEnd + 1), key, JSON.stringify(key)) };
      }
    }
    return { kind: 'unknown', identity: this.settled(id.mtimeMs, id.ctimeMs) ? id.word : undefined };
  }

  /** What a file read after `look` held, under the identity `look` gave; a file without one leaves the index partial. */
  learn(definition: Definition, name: string, identity: string | undefined, file: IndexedFile): void {
    if (identity === undefined) {
      this.whole = false;
      return;
    }
    this.next.push(lineOf(definition, name, identity, file));
    this.learned = true;
  }

  /** A file of the directories that is not in the next index (a symbolic link, one that could not be read): `holding` cannot answer from it. */
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

/** The fields of a line, checked; undefined when it is not one. */
function fieldsOf(line: string): { definition: Definition; name: string; identity: string; uuid: Uuid | null; keys: string } | undefined {
  const f = line.split(TAB);
  const [definition, name, identity, uuid, keys] = f;
  if (f.length !== 5 || (definition !== 'live' && definition !== 'persistent') || name === undefined || identity === undefined || keys === undefined) return undefined;
  const parsedUuid = uuid === '-' ? null : parseUuid(uuid ?? '');
  if (parsedUuid === undefined) return undefined;
  try {
    const n = JSON.parse(name) as unknown;
    // A name of a file in the directory, as the scan lists them: never a path elsewhere.
    const fileName = typeof n === 'string' && n.endsWith('.xml') && !n.includes('/') && n !== '.xml' ? n : undefined;
    return fileName === undefined ? undefined : { definition, name: fileName, identity, uuid: parsedUuid, keys };
  } catch {
    return undefined;
  }
}

/** Whether a line's words (its JSON array) hold `key`: searched as written first, parsed only when found. */
function holdsKey(keys: string, key: string, needle: string): boolean {
  if (!keys.includes(needle)) return false;
  try {
    const words = JSON.parse(keys) as unknown;
    return Array.isArray(words) && words.includes(key);
  } catch {
    return true; // unreadable: read the file, which decides
  }
}
