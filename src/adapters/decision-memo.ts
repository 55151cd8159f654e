/**
 * What reconcile found in sync, remembered by the identity of the files it decided from
 * (docs/design.md, "Reconcile from libvirt's files"): a domain whose files are all the very files
 * of the last decision is decided as then, without reading them (./file-identity.ts says why a
 * file's identity tells). Recorded only when the files stood still while they were read (the same
 * identity before and after) and had not changed for a while (SETTLED_NS: a change within one
 * tick of the kernel's clock keeps the same time), and only for a build that is the one running
 * (another build may decide otherwise).
 *
 * The memo is the state directory's `in-sync.json` (0600, written atomically); one that cannot be
 * read or trusted is an empty memo: it only ever saves work.
 */
import type { BigIntStats } from 'node:fs';
import { fileIdentity, SETTLED_MS } from './file-identity';
import { runningBuild } from './running-build';
import { readStateFile, writeStateFile } from './state-file';

export const MEMO_FILE = 'in-sync.json';
const MAX_MEMO_BYTES = 64 * 1024 * 1024;
/** How long a file must have stood unchanged before a decision from it is remembered. */
const SETTLED_NS = BigInt(SETTLED_MS) * 1_000_000n;

interface Entry {
  readonly key: string;
  readonly value: unknown;
}

/** What was decided from files of exactly the identity they have now, and what that identity was made of. */
export interface Remembered {
  readonly value: unknown;
  /** The files' stats as just taken, in the order of the paths given. */
  readonly stats: readonly BigIntStats[];
}

export class DecisionMemo {
  private readonly next = new Map<string, Entry>();
  private changed = false;

  private constructor(
    private readonly build: string,
    private readonly entries: ReadonlyMap<string, Entry>,
    /** What the caller saved with the memo (`save`), to tell whether something else stayed as it was. */
    readonly seal: string | undefined,
    private readonly nowNs: () => bigint,
  ) {}


  /**
   * The memo of `stateDir`; empty when there is none, or it is another build's, or unreadable.
   * Undefined when the running build cannot be told (no file to identify it by).
   */
  static load(stateDir: string, options: { build?: string; nowNs?: () => bigint } = {}): DecisionMemo | undefined {
    const build = options.build ?? runningBuild();
    if (build === undefined) return undefined;
    let entries = new Map<string, Entry>();
    let seal: string | undefined;
    try {
      const text = readStateFile(stateDir, MEMO_FILE, MAX_MEMO_BYTES);
      const o = text === undefined ? undefined : (JSON.parse(text) as { version?: unknown; build?: unknown; seal?: unknown; entries?: unknown });
      if (o?.version === 1 && o.build === build && typeof o.entries === 'object' && o.entries !== null) {
        entries = new Map(Object.entries(o.entries as Record<string, Entry>).filter(([, e]) => typeof e.key === 'string'));
        seal = typeof o.seal === 'string' ? o.seal : undefined;
      }
    } catch {
      // unreadable, untrusted or not JSON: nothing remembered
    }
    return new DecisionMemo(build, entries, seal, options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n));
  }

  /**
   * The identity of these files now (`extra` first: the listing's facts), and what was decided
   * for `id` from files of exactly that identity, if anything. Pass `key` to `record` once a
   * decision is made from the files; undefined when one of them is missing or not a regular file.
   */
  lookup(id: string, paths: readonly string[], extra: string): { key: string | undefined; remembered?: Remembered } {
    const now = identity(paths, extra);
    const remembered = this.rememberedFor(id, now);
    if (now === undefined || remembered === undefined) return { key: now?.key };
    this.next.set(id, { key: now.key, value: remembered.value });
    return { key: now.key, remembered };
  }

  /** What was decided for `id` from files of exactly the identity they have now; unlike `lookup`, keeps nothing for `save`. */
  peek(id: string, paths: readonly string[], extra: string): Remembered | undefined {
    return this.rememberedFor(id, identity(paths, extra));
  }

  private rememberedFor(id: string, now: Identity | undefined): Remembered | undefined {
    const entry = now === undefined ? undefined : this.entries.get(id);
    return now !== undefined && entry?.key === now.key ? { value: entry.value, stats: now.stats } : undefined;
  }

  /** Remembers `value` for `id` when the files still have the identity `before` and have stood still long enough. */
  record(id: string, before: string, paths: readonly string[], extra: string, value: unknown): void {
    const settled = this.nowNs() - SETTLED_NS;
    if (identity(paths, extra, settled)?.key !== before) return;
    const old = this.entries.get(id);
    this.next.set(id, { key: before, value });
    if (old?.key !== before) this.changed = true;
  }

  /**
   * Writes what this run looked up or recorded (domains gone are forgotten) and `seal`, when that
   * changes anything.
   */
  save(stateDir: string, seal?: string): void {
    if (!this.changed && this.next.size === this.entries.size && seal === this.seal) return;
    writeStateFile(stateDir, MEMO_FILE, JSON.stringify({ version: 1, build: this.build, seal, entries: Object.fromEntries(this.next) }));
  }
}

interface Identity {
  readonly key: string;
  readonly stats: readonly BigIntStats[];
}

/** `extra`, then each file's identity; undefined when one is not a regular file, or (with `settledBefore`) changed after that time. */
function identity(paths: readonly string[], extra: string, settledBefore?: bigint): Identity | undefined {
  let key = extra;
  const stats: BigIntStats[] = [];
  for (const path of paths) {
    let id;
    try {
      id = fileIdentity(path);
    } catch {
      return undefined; // not to be looked at: not to be remembered by
    }
    if (!id?.stats.isFile()) return undefined;
    if (settledBefore !== undefined && (id.stats.ctimeNs > settledBefore || id.stats.mtimeNs > settledBefore)) return undefined;
    key += ` ${id.word}`;
    stats.push(id.stats);
  }
  return { key, stats };
}
