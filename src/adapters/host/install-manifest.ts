/**
 * What an installation created, so that removing it takes away exactly that: one `KIND PATH`
 * line per thing (`KIND PATH SHA256` for a config file, to tell an operator's edit), in
 * `<stateDir>/install-manifest`. install.sh records the files it copies (kinds `dir`, `file`,
 * `conf`); placing the hook records `hook` and `hookdir`. The package has dpkg's own list and
 * keeps no manifest. The file is rewritten atomically; a missing state directory means nothing
 * to record (DESTDIR builds).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file';
import { readRegularFile } from '../file-read';
import { errnoCode } from '../os-error';

export type ManifestKind = 'dir' | 'file' | 'conf' | 'hook' | 'hookdir';

export interface ManifestEntry {
  readonly kind: ManifestKind;
  readonly path: string;
  readonly sha256?: string;
}

export const MANIFEST_NAME = 'install-manifest';
const KINDS: ReadonlySet<string> = new Set(['dir', 'file', 'conf', 'hook', 'hookdir']);

export class InstallManifest {
  readonly path: string;

  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, MANIFEST_NAME);
  }

  entries(): ManifestEntry[] {
    let text: string;
    try {
      text = readRegularFile(this.path, { maxBytes: 1024 * 1024, noFollow: true }).toString('utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    return text.split('\n').flatMap((line) => {
      const [kind = '', path = '', sha256] = line.split(' ');
      return KINDS.has(kind) && path.startsWith('/') ? [{ kind: kind as ManifestKind, path, ...(sha256 ? { sha256 } : {}) }] : [];
    });
  }

  add(entry: ManifestEntry): void {
    if (!existsSync(this.stateDir)) return;
    const all = this.entries();
    if (all.some((e) => e.kind === entry.kind && e.path === entry.path)) return;
    this.write([...all, entry]);
  }

  remove(kind: ManifestKind, path: string): void {
    const all = this.entries();
    const kept = all.filter((e) => !(e.kind === kind && e.path === path));
    if (kept.length !== all.length) this.write(kept);
  }

  private write(entries: readonly ManifestEntry[]): void {
    writeFileAtomic(this.path, entries.map((e) => `${e.kind} ${e.path}${e.sha256 ? ` ${e.sha256}` : ''}\n`).join(''), { mode: 0o600 });
  }
}
