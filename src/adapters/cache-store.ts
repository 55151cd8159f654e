/**
 * The network_info cache: one nova network_info per instance, `<cacheDir>/<uuid>.json`
 * (docs/design.md, "Contracts"), the desired state every reconcile reads. A file is stored exactly as the operator gave it
 * (it is nova's own format, and stays diffable against nova's database), but only after it has
 * passed `parseNetworkInfo`, the same validator every reader applies again. Files are 0600 in
 * 0700 directories and replaced atomically, so a reader never sees a torn or mixed file.
 *
 * The cache directory's parent is the state directory; both are created by `put` only, and
 * checked by every call (see state-dir.ts). Per-file problems are the file's: `read` and `list`
 * report them without failing the other instances.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, quote, SystemError } from '../errors';
import { parseUuid, type Uuid, type Vif } from '../core/model';
import { LIMITS, parseNetworkInfo } from '../core/network-info';
import { syncDirectory, writeFileAtomic } from './atomic-file';
import { errnoCode, errnoText, showPath, systemFailure } from './os-error';
import { ensurePrivateDir, inspectPrivateDir, trustProblem } from './state-dir';

export interface CachedNetworkInfo {
  /** The file's text, as it was put. */
  readonly text: string;
  readonly vifs: readonly Vif[];
  readonly mtime: Date;
}

/** What reconcile needs to know about one instance's cache file. */
export type CacheRead =
  | { readonly kind: 'missing' }
  | ({ readonly kind: 'ok' } & CachedNetworkInfo)
  /** Not valid network_info (InputError), or not to be trusted or not readable (SystemError). */
  | { readonly kind: 'invalid'; readonly error: InputError | SystemError };

/** One line of `cache list`. */
export type CacheEntry =
  | { readonly uuid: Uuid; readonly mtime: Date; readonly ports: number; readonly addresses: number; readonly error?: undefined }
  | { readonly uuid: Uuid; readonly mtime: Date | undefined; readonly error: string };

const FILE_NAME = /^([0-9a-fA-F-]{36})\.json$/;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

export interface CacheStoreOptions {
  /**
   * `run`: a store that lives as long as one reconcile run: the directories are checked at the
   * first read only, and each instance's file is read once (the run decides from one version of
   * it; a change meanwhile is the next run's). `calls`, the default: every call checks and reads
   * (the watcher's store lives for days).
   */
  readonly scope?: 'calls' | 'run';
}

export class CacheStore {
  private readonly runScoped: boolean;
  /**
   * `join(dir, name)` up to the name, made once: a reconcile asks for hundreds of paths, and the
   * first few hundred calls of path.join cost milliseconds (a cache file's name is a validated
   * UUID, so `join` would only ever append it).
   */
  private readonly prefix: string;
  private dirsChecked = false;
  /** A run-scoped store's reads (none kept otherwise: the watcher's store lives for days). */
  private readonly reads = new Map<Uuid, CacheRead>();
  /** Files a run decided by without reading them: when each was written. */
  private readonly unread = new Map<Uuid, Date>();

  constructor(
    readonly dir: string,
    options: CacheStoreOptions = {},
  ) {
    this.runScoped = options.scope === 'run';
    this.prefix = join(dir, '_').slice(0, -1);
  }

  /** The cache file of an instance; the UUID is validated, so no name can leave the directory. */
  path(uuid: string): string {
    return `${this.prefix}${instanceUuid(uuid)}.json`;
  }

  /** Validates `text` (errors name `source` and the JSON path) and stores it atomically, 0600. */
  put(uuid: string, text: string, source = 'network_info'): readonly Vif[] {
    const path = this.path(uuid);
    const vifs = parseNetworkInfo(text, source);
    ensurePrivateDir(dirname(this.dir));
    ensurePrivateDir(this.dir);
    writeFileAtomic(path, text, { mode: 0o600 });
    return vifs;
  }

  /** The stored network_info, or undefined when there is none; throws when it is invalid or untrusted. */
  get(uuid: string): CachedNetworkInfo | undefined {
    const r = this.read(uuid);
    if (r.kind === 'invalid') throw r.error;
    return r.kind === 'ok' ? r : undefined;
  }

  /**
   * For reconcile: never throws for a problem of this one file. Throws SystemError when the
   * directories themselves cannot be trusted, since then no file in them can.
   */
  read(uuid: string): CacheRead {
    const id = instanceUuid(uuid);
    const known = this.reads.get(id);
    if (known) return known;
    if (!this.directoriesExist()) return { kind: 'missing' };
    const r = readCacheFile(this.path(id));
    if (this.runScoped) this.reads.set(id, r);
    return r;
  }

  /** Whether the directories exist; throws when either cannot be trusted (as every read does). */
  usable(): boolean {
    return this.directoriesExist();
  }

  /**
   * A file the run decided by without reading it, known to be the very file an earlier run read
   * (src/adapters/decision-memo.ts): it is one of this run's inputs all the same.
   */
  countUnread(uuid: Uuid, writtenAt: Date): void {
    if (this.runScoped) this.unread.set(uuid, writtenAt);
  }

  /** When the files of a run-scoped store's run were written, read or counted unread: a run's oldest input (the metrics). */
  writeTimes(): Date[] {
    const read = [...this.reads.values()].flatMap((r) => (r.kind === 'ok' ? [r.mtime] : []));
    return [...read, ...this.unread.values()];
  }

  /** Every `<uuid>.json`, sorted by UUID; other names (temp files among them) are not cache files. */
  list(): CacheEntry[] {
    const entries: CacheEntry[] = [];
    for (const name of this.names().sort()) {
      const stem = FILE_NAME.exec(name)?.[1];
      const uuid = stem === undefined ? undefined : parseUuid(stem);
      if (uuid === undefined) continue;
      if (stem !== uuid) {
        // Never read: looked up under its lower-case name, which is missing.
        entries.push({ uuid, mtime: mtimeOf(join(this.dir, name)), error: `${name}: not a lower-case UUID name; rename it to ${uuid}.json` });
        continue;
      }
      const r = readCacheFile(join(this.dir, name));
      if (r.kind === 'ok') {
        const addresses = r.vifs.reduce((n, v) => n + v.ips.length, 0);
        entries.push({ uuid, mtime: r.mtime, ports: r.vifs.length, addresses });
      } else if (r.kind === 'invalid') {
        entries.push({ uuid, mtime: mtimeOf(join(this.dir, name)), error: r.error.message });
      }
      // missing: removed since the directory was read
    }
    return entries.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  }

  /** The instance of every `<uuid>.json`, from the names alone (nothing read), sorted: for a run's orphans. */
  uuids(): Uuid[] {
    const uuids = this.names().map((name) => parseUuid(FILE_NAME.exec(name)?.[1] ?? '')).filter((u): u is Uuid => u !== undefined);
    return uuids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Removes an instance's cache file; false when there was none. */
  rm(uuid: string): boolean {
    const path = this.path(uuid);
    if (!this.directoriesExist()) return false;
    try {
      unlinkSync(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw systemFailure('remove', path, err);
    }
    syncDirectory(this.dir, path);
    return true;
  }

  /** Every name in the cache directory; none when it does not exist. */
  private names(): string[] {
    if (!this.directoriesExist()) return [];
    try {
      return readdirSync(this.dir);
    } catch (err) {
      throw systemFailure('list', this.dir, err);
    }
  }

  /** Whether the state and cache directories exist; throws when either cannot be trusted. */
  private directoriesExist(): boolean {
    if (this.dirsChecked) return true;
    const exist = inspectPrivateDir(dirname(this.dir)) === 'ok' && inspectPrivateDir(this.dir) === 'ok';
    this.dirsChecked = exist && this.runScoped;
    return exist;
  }
}

function instanceUuid(text: string): Uuid {
  const uuid = parseUuid(text);
  if (uuid === undefined) throw new InputError('instance UUID', `${quote(text)} is not a UUID`);
  return uuid;
}

/**
 * Opens without following a symlink and without blocking on a FIFO, then checks the very file
 * opened (no window between check and use) before reading at most LIMITS.bytes.
 */
function readCacheFile(path: string): CacheRead {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') return invalid(new SystemError(`${showPath(path)}: a symbolic link; a cache file must be a regular file`));
    return invalid(systemFailure('read', path, err));
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return invalid(new SystemError(`${showPath(path)}: not a regular file`));
    const problem = trustProblem(stats, path, 'file');
    if (problem !== undefined) return invalid(new SystemError(problem));
    if (stats.size > LIMITS.bytes) return invalid(new InputError(path, `network_info is larger than ${LIMITS.bytes} bytes`));
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } catch (err) {
      return invalid(new SystemError(`cannot read ${showPath(path)}: ${errnoText(err)}`, { cause: err }));
    }
    try {
      return { kind: 'ok', text, vifs: parseNetworkInfo(text, path), mtime: stats.mtime };
    } catch (err) {
      if (err instanceof InputError) return invalid(err);
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}

function mtimeOf(path: string): Date | undefined {
  try {
    return lstatSync(path).mtime;
  } catch {
    return undefined;
  }
}

function invalid(error: InputError | SystemError): CacheRead {
  return { kind: 'invalid', error };
}
