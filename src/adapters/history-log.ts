/**
 * The address history's files (docs/design.md, "The address history"), in `<state>/history/`
 * (0700), each 0600:
 *
 *   addresses.jsonl        the log: one JSON record per line, appended (O_APPEND), never rewritten
 *   addresses.jsonl.1..N   rotated logs, .1 the newest; at most `keep_files` of them
 *   current.json           what the writers last recorded (each instance's addresses), replaced atomically
 *
 * Only one writer at a time: every writer holds the run lock (reconcile, the watcher's jobs).
 * Readers (`history`) take no lock: they see whole lines, and a line without its newline at the
 * end of a file is a torn write (a crash, a full disk) that its writer will repeat, so it is
 * ignored. The writer cuts such a tail off before it appends, so the next record starts a line.
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError, SystemError } from '../errors';
import { parseRecord, type HistoryRecord } from '../core/history';
import type { Ini } from '../core/ini';
import { writeFileAtomic } from './atomic-file';
import { fileIdentity } from './file-identity';
import { readStateFile } from './state-file';
import { errnoCode, showPath, systemFailure } from './os-error';
import { ensurePrivateDir, inspectPrivateDir, trustProblem } from './state-dir';

export const HISTORY_DIR = 'history';
export const LOG_FILE = 'addresses.jsonl';
export const STATE_FILE = 'current.json';

export interface RotationPolicy {
  /** The log is rotated once it is this large... */
  readonly maxBytes: number;
  /** ...or its first record is this old. */
  readonly maxAgeMs: number;
  /** Rotated files kept; the oldest beyond that are removed. */
  readonly keep: number;
}

export interface HistoryConfig {
  readonly enabled: boolean;
  readonly rotation: RotationPolicy;
}

const DAY_MS = 86_400_000;
export const HISTORY_DEFAULTS: HistoryConfig = { enabled: true, rotation: { maxBytes: 16 * 1024 * 1024, maxAgeMs: 30 * DAY_MS, keep: 12 } };
/** Below this a log would rotate at nearly every write. */
const MIN_FILE_BYTES = 1024;
const MAX_KEEP = 1000;
/** current.json of the largest host is a few MB; what is larger is not ours. */
const STATE_MAX_BYTES = 256 * 1024 * 1024;

/** `[history]` of the config file; throws InputError naming the key. */
export function historyConfig(ini: Ini, source: string): HistoryConfig {
  const section = ini.get('history');
  const value = (key: string) => {
    const v = section?.get(key);
    return v === undefined || v === '' ? undefined : v;
  };
  const bad = (key: string, text: string, what: string) => new InputError(`${source}: [history] ${key}`, `${JSON.stringify(text)} is not ${what}`);
  const enabledText = value('enabled');
  let enabled = HISTORY_DEFAULTS.enabled;
  if (enabledText !== undefined) {
    const t = enabledText.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(t)) enabled = true;
    else if (['false', 'no', 'off', '0'].includes(t)) enabled = false;
    else throw bad('enabled', enabledText, 'true or false');
  }
  const sizeText = value('max_file_size');
  const maxBytes = sizeText === undefined ? HISTORY_DEFAULTS.rotation.maxBytes : parseSize(sizeText);
  if (maxBytes === undefined || maxBytes < MIN_FILE_BYTES) throw bad('max_file_size', sizeText ?? '', `a size of at least ${MIN_FILE_BYTES} bytes (K, M, G suffixes)`);
  const ageText = value('max_file_age_days');
  const days = ageText === undefined ? HISTORY_DEFAULTS.rotation.maxAgeMs / DAY_MS : Number(ageText);
  if (!(Number.isFinite(days) && days > 0)) throw bad('max_file_age_days', ageText ?? '', 'a number of days above 0');
  const keepText = value('keep_files');
  const keep = keepText === undefined ? HISTORY_DEFAULTS.rotation.keep : Number(keepText);
  if (!(Number.isInteger(keep) && keep >= 0 && keep <= MAX_KEEP)) throw bad('keep_files', keepText ?? '', `a whole number from 0 to ${MAX_KEEP}`);
  return { enabled, rotation: { maxBytes, maxAgeMs: days * DAY_MS, keep } };
}

function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

export function historyDir(stateDir: string): string {
  return join(stateDir, HISTORY_DIR);
}

const { O_RDWR, O_RDONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * The log, open for appending. Each `append` writes whole lines in one write(2) at the end of
 * the file (O_APPEND), after rotating when the policy says so; `sync` forces them to disk.
 * Failures are SystemErrors naming the file and the errno (ENOSPC, EROFS...).
 */
export class HistoryLogWriter {
  private fd: number | undefined;
  private size = 0;
  /** When the log's first record was written (ms), for rotation by age. */
  private firstTime: number | undefined;
  private readonly path: string;

  constructor(
    readonly dir: string,
    private readonly policy: RotationPolicy,
  ) {
    this.path = join(dir, LOG_FILE);
  }

  /** `opening`: the lines a fresh log starts with after a rotation (what is held at that moment). */
  append(text: string, opening: () => string, now: Date): void {
    if (text === '') return;
    this.open(now);
    if (this.due(now)) {
      this.rotate(opening());
      this.open(now);
    }
    const bytes = Buffer.from(text, 'utf8');
    try {
      writeAll(this.fd as number, bytes);
    } catch (err) {
      // What was written of it is a torn line: the next open cuts it off.
      this.closeQuietly();
      throw systemFailure('append to', this.path, err);
    }
    this.size += bytes.length;
    this.firstTime ??= now.getTime();
  }

  /** Forces what was appended to disk (before the state that says it was recorded is replaced). */
  sync(): void {
    if (this.fd === undefined) return;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      this.closeQuietly();
      throw systemFailure('sync', this.path, err);
    }
  }

  close(): void {
    this.closeQuietly();
  }

  private open(now: Date): void {
    if (this.fd !== undefined) return;
    ensurePrivateDir(this.dir);
    let fd: number;
    try {
      fd = openSync(this.path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
    } catch (err) {
      throw systemFailure('open', this.path, err);
    }
    try {
      const stats = fstatSync(fd);
      checkFile(stats, this.path);
      // Created just now with the umask applied: the exact mode.
      if (stats.size === 0) fchmodSync(fd, 0o600);
      this.size = cutTornTail(fd, stats.size, this.path);
      this.firstTime = this.size === 0 ? undefined : (firstRecordTime(fd) ?? now.getTime());
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  private due(now: Date): boolean {
    if (this.size === 0) return false;
    return this.size >= this.policy.maxBytes || (this.firstTime !== undefined && now.getTime() - this.firstTime >= this.policy.maxAgeMs);
  }

  /** addresses.jsonl → .1 → .2 ... → .keep (removed beyond), then a fresh log holding `opening`. */
  private rotate(opening: string): void {
    this.closeQuietly();
    const rotated = (n: number) => `${this.path}.${n}`;
    for (const n of rotatedNumbers(this.dir)) if (n >= this.policy.keep) removeIfThere(rotated(n));
    for (let n = this.policy.keep - 1; n >= 1; n--) renameIfThere(rotated(n), rotated(n + 1));
    if (this.policy.keep > 0) renameIfThere(this.path, rotated(1));
    else removeIfThere(this.path);
    // The rename above and this file's own are made durable by its directory sync.
    writeFileAtomic(this.path, opening, { mode: 0o600 });
  }

  private closeQuietly(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // EIO on close after a failed write: the descriptor is gone either way
    }
    this.fd = undefined;
  }
}

function checkFile(stats: Stats, path: string): void {
  if (!stats.isFile()) throw new SystemError(`${showPath(path)}: not a regular file`);
  const problem = trustProblem(stats, path, 'file');
  if (problem !== undefined) throw new SystemError(problem);
}

/** The log's size once a last line without its newline (a torn write) is cut off. */
function cutTornTail(fd: number, size: number, path: string): number {
  if (size === 0) return 0;
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep === size) return size;
      return truncate(fd, keep, path);
    }
    end = start;
  }
  return truncate(fd, 0, path);
}

function truncate(fd: number, size: number, path: string): number {
  try {
    ftruncateSync(fd, size);
  } catch (err) {
    throw systemFailure('cut the torn last line of', path, err);
  }
  return size;
}

function firstRecordTime(fd: number): number | undefined {
  const head = Buffer.allocUnsafe(4096);
  const n = readSync(fd, head, 0, head.length, 0);
  const m = /^\{"time":"([^"]+)"/.exec(head.toString('utf8', 0, n));
  const t = m?.[1] === undefined ? NaN : Date.parse(m[1]);
  return Number.isNaN(t) ? undefined : t;
}

function rotatedNumbers(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw systemFailure('list', dir, err);
  }
  return names.flatMap((name) => {
    const m = /^addresses\.jsonl\.([1-9]\d{0,5})$/.exec(name);
    return m?.[1] === undefined ? [] : [Number(m[1])];
  });
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw systemFailure('rotate', from, err);
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw systemFailure('remove', path, err);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** current.json as text; undefined when there is none (or no history directory). Throws SystemError when it cannot be read or trusted. */
export function readHistoryState(dir: string): string | undefined {
  return readStateFile(dir, STATE_FILE, STATE_MAX_BYTES);
}

/**
 * The log as it is now, in a word for the state file to name it by (inode and size), so that a
 * writer can tell whether anything was appended since the state was written. Undefined: no log.
 */
export function logMark(dir: string): string | undefined {
  const path = join(dir, LOG_FILE);
  try {
    const stats = lstatSync(path);
    return `${stats.ino}:${stats.size}`;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw systemFailure('check', path, err);
  }
}

/**
 * The history's files as they are now (current.json and the log: inode, size, times), in one
 * word: equal words mean nothing was recorded in between. Undefined when either cannot be looked at.
 */
export function historyFingerprint(dir: string): string | undefined {
  try {
    return [STATE_FILE, LOG_FILE].map((name) => `${name} ${fileIdentity(join(dir, name))?.word ?? 'none'}`).join(' ');
  } catch {
    return undefined;
  }
}

export function writeHistoryState(dir: string, text: string): void {
  ensurePrivateDir(dir);
  writeFileAtomic(join(dir, STATE_FILE), text, { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface HistoryScan {
  /** Log files read. */
  readonly files: number;
  /** Lines holding the needle that were not records (damaged), the torn tails not counted. */
  readonly damaged: number;
}

/**
 * Every line of the logs that holds `needle`, oldest file first, each file in order. Only those
 * lines are decoded: the search runs on the raw bytes (Buffer#indexOf), so a million records
 * cost a read of the files and a byte search, not a million JSON parses. `accept` returns false
 * for a line that is not a record. Undefined when there is no history directory.
 */
export function scanHistory(dir: string, needle: Buffer, accept: (line: string) => boolean): HistoryScan | undefined {
  if (inspectPrivateDir(dir) === 'missing') return undefined;
  const fds = openLogs(dir);
  let damaged = 0;
  const buffer = { data: Buffer.allocUnsafe(READ_CHUNK) };
  try {
    // Oldest first: .N, ..., .1, then the log itself.
    for (const { fd } of [...fds].reverse()) {
      scanFile(fd, needle, buffer, (line) => {
        if (!accept(line.toString('utf8'))) damaged++;
      });
    }
  } finally {
    for (const { fd } of fds) closeSync(fd);
  }
  return { files: fds.length, damaged };
}

/** Every record of the logs, oldest first; undefined when there is no history directory. */
export function readAllRecords(dir: string): (HistoryScan & { readonly records: HistoryRecord[] }) | undefined {
  const records: HistoryRecord[] = [];
  // Every record starts so (formatRecord).
  const scan = scanHistory(dir, Buffer.from('{"time":"'), (line) => {
    const r = parseRecord(line);
    if (r) records.push(r);
    return r !== undefined;
  });
  return scan && { ...scan, records };
}

/**
 * The log and its rotated files, opened newest first and each checked to be a regular file of
 * ours. A rotation while they are opened would show one file under two names: it is read once.
 */
function openLogs(dir: string): { fd: number; path: string }[] {
  const numbers = [0, ...rotatedNumbers(dir).sort((a, b) => a - b)];
  const seen = new Set<string>();
  const opened: { fd: number; path: string }[] = [];
  try {
    for (const n of numbers) {
      const path = join(dir, n === 0 ? LOG_FILE : `${LOG_FILE}.${n}`);
      let fd: number;
      try {
        fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      } catch (err) {
        // Rotated away since the listing, or no log yet.
        if (errnoCode(err) === 'ENOENT') continue;
        throw systemFailure('read', path, err);
      }
      const stats = fstatSync(fd);
      const id = `${stats.dev}:${stats.ino}`;
      if (seen.has(id)) {
        closeSync(fd);
        continue;
      }
      seen.add(id);
      opened.push({ fd, path });
      checkFile(stats, path);
    }
  } catch (err) {
    for (const { fd } of opened) closeSync(fd);
    throw err;
  }
  return opened;
}

const READ_CHUNK = 8 * 1024 * 1024;
/** A "line" longer than this is not one of ours: it is skipped, up to the next newline. */
const MAX_LINE = 16 * 1024 * 1024;

function scanFile(fd: number, needle: Buffer, buffer: { data: Buffer }, onLine: (line: Buffer) => void): void {
  let carried = 0;
  let skipping = false;
  for (;;) {
    let buf = buffer.data;
    const n = readSync(fd, buf, carried, buf.length - carried, null);
    // The end: what is carried has no newline, a torn write.
    if (n === 0) return;
    const filled = carried + n;
    let from = 0;
    if (skipping) {
      const nl = buf.subarray(0, filled).indexOf(0x0a);
      if (nl < 0) {
        carried = 0;
        continue;
      }
      skipping = false;
      from = nl + 1;
    }
    const lastNl = buf.subarray(0, filled).lastIndexOf(0x0a);
    if (lastNl < from) {
      // No whole line in the buffer: make room for a longer one, or give up on it.
      if (filled < buf.length) {
        carried = moveDown(buf, from, filled);
      } else if (buf.length < MAX_LINE) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, from, filled);
        buffer.data = buf = bigger;
        carried = filled - from;
      } else {
        skipping = true;
        carried = 0;
      }
      continue;
    }
    const view = buf.subarray(0, lastNl + 1);
    for (let at = view.indexOf(needle, from); at >= 0; ) {
      const start = at === 0 ? 0 : view.lastIndexOf(0x0a, at - 1) + 1;
      const end = view.indexOf(0x0a, at);
      onLine(view.subarray(Math.max(start, from), end));
      at = view.indexOf(needle, end + 1);
    }
    carried = moveDown(buf, lastNl + 1, filled);
  }
}

/** Moves buf[from, to) to the start of the buffer; its new length. */
function moveDown(buf: Buffer, from: number, to: number): number {
  if (from > 0) buf.copy(buf, 0, from, to);
  return to - from;
}
