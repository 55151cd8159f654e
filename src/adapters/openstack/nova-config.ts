/**
 * nova-compute's own configuration, read the way oslo.config reads it, so that `cache sync` can
 * use the Neutron credentials every compute host already has (its `[neutron]` section) without a
 * line of config of ours (docs/design.md, "Facts about Neutron and deployments"). Looked for in
 * this order, the first that exists is used whole:
 *
 * 1. a running nova-compute, in any mount namespace (kolla-ansible runs it in a container): the
 *    files its command line names (`--config-file`, `--config-dir`), with oslo.config's defaults
 *    for what it does not name, read through `/proc/PID/root` (and `/proc/PID/cwd` for a
 *    relative path), so a container's files are read as the container sees them;
 * 2. else the files a nova-compute started without arguments would read: `nova.conf` and
 *    `nova-compute.conf` in /etc/nova (or /etc), then the `*.conf` of `nova.conf.d/` and
 *    `nova-compute.conf.d/` there;
 * 3. else kolla-ansible's copy on the host, /etc/kolla/nova-compute/nova.conf;
 * 4. else the paths given in our config (`[cache_sync] nova_config`): files, and directories
 *    read as a `--config-dir`.
 *
 * oslo.config's order: its default files when the command line names no `--config-file`, then
 * its default directories when it names no `--config-dir`, then the command line's files and
 * directories in their order (a directory's `*.conf` sorted by name); later files win key by key.
 * The home directory's copies (`~/.nova/`), which oslo.config also looks at, are not read: nova
 * runs as a system user whose home holds none.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, messageOf } from '../../errors';
import { mergeIni, parseIni, type Ini } from '../../core/ini';
import { decodeUtf8, FileReadError, readRegularFile } from '../file-read';
import { processesAnywhere } from '../host/processes';
import { errnoCode, errnoText } from '../os-error';

export interface NovaConfig {
  /** The files merged, later files winning. */
  readonly ini: Ini;
  /** The files read, in order, as nova-compute names them. */
  readonly files: readonly string[];
  /** Where they were found, for messages and `doctor`: `nova-compute (pid 4242)`, ... */
  readonly origin: string;
}

/** Where to look; a test points them at its own directories. */
export interface NovaConfigPlaces {
  readonly procDir: string;
  /** The host's root for the usual paths. */
  readonly root: string;
}

export const HOST_PLACES: NovaConfigPlaces = { procDir: '/proc', root: '/' };
export const KOLLA_NOVA_CONF = '/etc/kolla/nova-compute/nova.conf';

/** A bound far beyond any nova.conf, so that a wrong path (a log file, a device) fails fast. */
const MAX_BYTES = 4 * 1024 * 1024;
const PROJECT = 'nova';
const PROG = 'nova-compute';
const SEARCH_DIRS = ['/etc/nova', '/etc'];

interface Item {
  readonly kind: 'file' | 'dir';
  /** As nova-compute names it. */
  readonly path: string;
  /** Named on the command line or in our config: it must be there. oslo's defaults may be absent. */
  readonly required: boolean;
}

/** nova-compute's config, or undefined when none of the four places has one. */
export function findNovaConfig(configured: readonly string[], places: NovaConfigPlaces = HOST_PLACES): NovaConfig | undefined {
  // One that has exited but not been reaped yet has no command line any more: not that one.
  const process = oldest(processesAnywhere((comm) => comm === PROG, places.procDir).filter((p) => p.argv.length > 0));
  if (process) {
    const base = join(places.procDir, String(process.pid));
    const at = (path: string) => (path.startsWith('/') ? join(base, 'root', path) : join(base, 'cwd', path));
    return read(itemsOf(process.argv, (p) => existsSync(at(p))), at, `nova-compute (pid ${process.pid})`);
  }
  const onHost = (path: string) => join(places.root, path);
  const defaults = itemsOf([], (p) => existsSync(onHost(p)));
  if (defaults.length > 0) return read(defaults, onHost, 'the usual paths of nova-compute');
  if (existsSync(onHost(KOLLA_NOVA_CONF))) return read([{ kind: 'file', path: KOLLA_NOVA_CONF, required: true }], onHost, "kolla-ansible's copy on the host");
  if (configured.length > 0) {
    const items = configured.map((path): Item => ({ kind: isDirectory(onHost(path)) ? 'dir' : 'file', path, required: true }));
    return read(items, onHost, '[cache_sync] nova_config');
  }
  return undefined;
}

/** What findNovaConfig looks at, for the message that says none was found. */
export function novaConfigPlaces(): string {
  return `a running nova-compute, ${SEARCH_DIRS[0]}/{${PROJECT},${PROG}}.conf{,.d/}, ${KOLLA_NOVA_CONF}, [cache_sync] nova_config`;
}

/** oslo.config's files and directories for this command line (argv of nova-compute, or none). */
export function itemsOf(argv: readonly string[], exists: (path: string) => boolean): Item[] {
  const named: Item[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    for (const [option, kind] of [
      ['--config-file', 'file'],
      ['--config-dir', 'dir'],
    ] as const) {
      if (arg === option && i + 1 < argv.length) named.push({ kind, path: argv[++i] ?? '', required: true });
      else if (arg.startsWith(`${option}=`)) named.push({ kind, path: arg.slice(option.length + 1), required: true });
    }
  }
  const search = (name: string) => SEARCH_DIRS.map((d) => `${d}/${name}`).find(exists);
  const defaults = (kind: 'file' | 'dir', extension: string): Item[] =>
    [PROJECT, PROG].flatMap((p) => {
      const path = search(`${p}${extension}`);
      return path === undefined ? [] : [{ kind, path, required: false }];
    });
  return [
    ...(named.some((n) => n.kind === 'file') ? [] : defaults('file', '.conf')),
    ...(named.some((n) => n.kind === 'dir') ? [] : defaults('dir', '.conf.d')),
    ...named,
  ];
}

function read(items: readonly Item[], at: (path: string) => string, origin: string): NovaConfig {
  const files: string[] = [];
  const inis: Ini[] = [];
  const add = (path: string) => {
    files.push(path);
    inis.push(parseIni(readText(at(path), path, origin), path));
  };
  for (const item of items) {
    if (item.kind === 'file') add(item.path);
    else for (const name of confFiles(at(item.path), item.path, origin, item.required)) add(join(item.path, name));
  }
  return { ini: mergeIni(inis), files, origin };
}

/** A directory's `*.conf` (not dot files), sorted by name, as oslo.config's glob finds them. */
function confFiles(dir: string, shown: string, origin: string, required: boolean): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.conf') && !n.startsWith('.'))
      .sort();
  } catch (err) {
    if (!required && errnoCode(err) === 'ENOENT') return [];
    throw new InputError(shown, `cannot list ${origin}'s config directory: ${errnoText(err)}`);
  }
}

function readText(path: string, shown: string, origin: string): string {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(path, { maxBytes: MAX_BYTES });
  } catch (err) {
    const why = err instanceof FileReadError ? `${err.code} (${err.message})` : errnoCode(err) === undefined ? messageOf(err) : errnoText(err);
    throw new InputError(shown, `cannot read ${origin}'s config: ${why}`);
  }
  return decodeUtf8(bytes, shown);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function oldest<T extends { readonly startedAt: Date }>(list: readonly T[]): T | undefined {
  return [...list].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())[0];
}
