/**
 * The cache directory, watched: `onChange(uuid)` whenever `<uuid>.json` is created, replaced or
 * removed there. The cache writes by temp + rename, so the final name arrives with the rename;
 * temp names are ignored (see cacheFileUuid).
 *
 * inotify watches a directory, not a path: once the directory is removed (or renamed away) the
 * watch reports its own name and then nothing, ever. Any entry that is not a cache file is
 * therefore a cue to check that the directory is still the one watched; when it is not,
 * `onLost` is called and the caller starts a new watch.
 */
import { statSync, watch } from 'node:fs';
import { cacheFileUuid } from './triggers';
import type { Uuid } from '../core/model';

export interface CacheWatch {
  close(): void;
}

export function watchCacheDir(dir: string, handlers: { onChange: (uuid: Uuid) => void; onLost: (why: string) => void }): CacheWatch {
  const identity = (): string | undefined => {
    try {
      const s = statSync(dir);
      return s.isDirectory() ? `${s.dev}:${s.ino}` : undefined;
    } catch {
      return undefined;
    }
  };
  const watched = identity();
  let closed = false;
  const lose = (why: string) => {
    if (closed) return;
    closed = true;
    w.close();
    handlers.onLost(why);
  };
  // Not persistent: the watch alone must not keep the process alive.
  const w = watch(dir, { persistent: false }, (_event, fileName) => {
    if (closed) return;
    // Linux always names the entry.
    const uuid = fileName === null ? undefined : cacheFileUuid(fileName);
    if (uuid) handlers.onChange(uuid);
    else if (identity() !== watched) lose(`${dir} was removed or replaced`);
  });
  w.on('error', (err) => {
    lose(err.message);
  });
  return {
    close: () => {
      closed = true;
      w.close();
    },
  };
}
