/**
 * The cache directory, watched: `onChange(uuid)` whenever `<uuid>.json` is created, replaced or
 * removed there. The cache writes by temp + rename, so the final name arrives with the rename;
 * temp names are ignored (see cacheFileUuid).
 *
 * inotify watches a directory, not a path: once the directory is removed (or renamed away) the
 * watch reports its own name and then nothing, ever. Any entry that is not a cache file is
 * therefore a cue to check that the directory is still the one watched; when it is not (or the
 * watch fails), the watch is started again after `retryMs`, creating the directories as
 * `cache put` would, and `onRestarted` says that changes may have been missed meanwhile.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../errors';
import { ensurePrivateDir } from '../../adapters/state-dir';
import type { Uuid } from '../../core/model';
import { formatSeconds } from './event-source';
import { cacheFileUuid } from './triggers';

export interface CacheSourceOptions {
  readonly dir: string;
  readonly onChange: (uuid: Uuid) => void;
  /** The watch was lost and is back: changes made while nobody watched need a run over everything. */
  readonly onRestarted: () => void;
  readonly log: (line: string) => void;
  readonly retryMs: number;
  readonly signal: AbortSignal;
}

/** Watches until the signal aborts. */
export function watchCacheSource(options: CacheSourceOptions): void {
  let watcher: FSWatcher | undefined;
  const start = (restarted: boolean): void => {
    if (options.signal.aborted) return;
    try {
      // On a fresh host nothing was put yet: create the directories as `cache put` would (0700).
      ensurePrivateDir(dirname(options.dir));
      ensurePrivateDir(options.dir);
      watcher = watchOnce(options.dir, options.onChange, (why) => {
        retry(`lost the cache directory watch: ${why}`);
      });
      if (restarted) options.onRestarted();
    } catch (err) {
      retry(`cannot watch the cache directory ${options.dir}: ${messageOf(err)}`);
    }
  };
  const retry = (problem: string): void => {
    watcher = undefined;
    if (options.signal.aborted) return;
    options.log(`${problem}; retrying in ${formatSeconds(options.retryMs)}`);
    void sleep(options.retryMs, undefined, { signal: options.signal }).then(
      () => {
        start(true);
      },
      () => undefined,
    );
  };
  options.signal.addEventListener('abort', () => watcher?.close(), { once: true });
  start(false);
}

function watchOnce(dir: string, onChange: (uuid: Uuid) => void, onLost: (why: string) => void): FSWatcher {
  const identity = (): string | undefined => {
    try {
      const s = statSync(dir);
      return s.isDirectory() ? `${s.dev}:${s.ino}` : undefined;
    } catch {
      return undefined;
    }
  };
  const watched = identity();
  let lost = false;
  const lose = (why: string) => {
    if (lost) return;
    lost = true;
    w.close();
    onLost(why);
  };
  // Not persistent: the watch alone must not keep the process alive.
  const w = watch(dir, { persistent: false }, (_event, fileName) => {
    if (lost) return;
    // Linux always names the entry.
    const uuid = fileName === null ? undefined : cacheFileUuid(fileName);
    if (uuid) onChange(uuid);
    else if (identity() !== watched) lose(`${dir} was removed or replaced`);
  });
  w.on('error', (err) => {
    lose(err.message);
  });
  return w;
}
