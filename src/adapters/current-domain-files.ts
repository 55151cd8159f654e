/**
 * libvirt's own files for the domains libvirt lists, for a reconcile run to decide from without
 * asking libvirt for each domain (docs/design.md, "Reconcile from libvirt's files"). libvirt writes a
 * domain's persistent XML and, while it runs, its status XML before the call that changed them
 * returns, by rename; so a file is as current as a `dumpxml` made when it was read, provided it
 * is the file of that domain and, for the status file, of the guest's current run. What is
 * checked, against the listing libvirt just gave:
 *
 * - every `*.xml` in either directory is a domain libvirt lists (active ones only, in the live
 *   directory): a file for a domain this daemon does not have means the directories are not (only)
 *   this daemon's, and none is used;
 * - per domain: its files are regular files named after it, parse, carry its name and UUID; the
 *   status file's `<domain id=...>` is the ID the listing gave (a guest stopped and started again
 *   meanwhile has another); a persistent file carries no ID.
 *
 * A domain whose files fail any check is left to libvirt (undefined), as is every domain when the
 * directories cannot be listed (a containerized daemon whose volumes are not visible).
 */
import { InputError } from '../errors';
import type { Domain } from '../core/domain';
import type { Definition, Uuid } from '../core/model';
import { FileReader, fromRoot, listXmlFiles, parseDomainFile, readLeanDomain, type DomainXmlDirs, type ParsedFile, type XmlFile } from './domain-xml-files';
import { decodeUtf8 } from './file-read';

export interface ListedDomain {
  readonly uuid: Uuid;
  readonly name: string;
  readonly active: boolean;
  /** The daemon's ID of an active domain; without it, a status file cannot be tied to the current run. */
  readonly id?: number | undefined;
}

/** The definitions of one domain as its files hold them: `live` for an active domain, `persistent` when it has one. */
export interface DefinitionsFromFiles {
  readonly live?: Domain;
  readonly persistent?: Domain;
  /**
   * The persistent file's text from its root element on (libvirt's warning comment left out):
   * `dumpxml --inactive` gives exactly that when nothing changed and the definition holds no
   * secret (the file keeps secrets, dumpxml leaves them out).
   */
  readonly persistentText?: string;
}

/**
 * A file as listed, read and parsed when its domain is decided (and not at all when the run's
 * memo decides it: src/adapters/decision-memo.ts); a few hundred DOMs alive at once cost more in
 * the garbage collector than the parses themselves.
 */
type FileState =
  | { readonly kind: 'listed'; readonly path: string }
  | { readonly kind: 'read'; readonly text: string; readonly path: string }
  | { readonly kind: 'unusable' };

/** Both directories as listed at one moment: every `*.xml`. */
export type DomainFiles =
  | { readonly kind: 'read'; readonly files: Readonly<Record<Definition, Map<string, FileState>>>; readonly dirs: DomainXmlDirs }
  | { readonly kind: 'unreadable'; readonly problem: string }
  /** Not listed: the directories are not the running daemon's (daemonKeepsDirs). */
  | { readonly kind: 'not-the-daemons'; readonly problem: string };

/**
 * `lean`: read without a DOM (src/core/lean-xml.ts), for a decision that writes nothing; undefined
 * also when a file is outside what that reading takes, and the caller asks again with `dom`.
 */
export type FileReading = 'lean' | 'dom';

export type CurrentFiles =
  | {
      readonly kind: 'current';
      readonly of: (ref: ListedDomain, reading?: FileReading) => DefinitionsFromFiles | undefined;
      /** The files a decision from them reads: the persistent one, and the live one of a running guest. */
      readonly paths: (ref: ListedDomain) => string[];
    }
  | { readonly kind: 'not-current'; readonly problem: string };

/** Lists both directories now (each file is read when its domain is decided); `matchListing` ties them to what libvirt lists. */
export function readDomainFiles(dirs: DomainXmlDirs): DomainFiles {
  const files = {} as Record<Definition, Map<string, FileState>>;
  for (const definition of ['live', 'persistent'] as const) {
    const dir = dirs[definition];
    const listed = listXmlFiles(dir);
    if (listed.kind === 'unreadable') return { kind: 'unreadable', problem: `cannot list ${dir} (${listed.code})` };
    files[definition] = new Map(listed.files.map((f) => [f.name, listedOne(dir, f)]));
  }
  return { kind: 'read', files, dirs };
}

function listedOne(dir: string, file: XmlFile): FileState {
  // libvirt never links these files: a link is someone else's arrangement, and libvirt decides.
  if (file.symlink) return { kind: 'unusable' };
  return { kind: 'listed', path: pathIn(dir, file.name) };
}

function pathIn(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

const reader = new FileReader();

function readOne(path: string): FileState {
  const read = reader.read(path, false);
  if (read.kind === 'error') return { kind: 'unusable' };
  // Text now (strict UTF-8): the reader's buffer is reused for the next file, and a string costs
  // the garbage collector less than a few hundred buffers.
  try {
    return { kind: 'read', text: decodeUtf8(read.data, path), path };
  } catch (err) {
    if (err instanceof InputError) return { kind: 'unusable' };
    throw err;
  }
}

export function matchListing(read: DomainFiles, refs: readonly ListedDomain[]): CurrentFiles {
  if (read.kind !== 'read') return { kind: 'not-current', problem: read.problem };
  const { files, dirs } = read;
  const names = new Set(refs.map((r) => `${r.name}.xml`));
  const activeNames = new Set(refs.filter((r) => r.active).map((r) => `${r.name}.xml`));
  for (const [definition, known] of [['live', activeNames], ['persistent', names]] as const) {
    for (const name of files[definition].keys()) {
      if (!known.has(name)) return { kind: 'not-current', problem: `${dirs[definition]}/${name} is not a file of a domain libvirt lists${definition === 'live' ? ' as active' : ''}` };
    }
  }
  const of = (ref: ListedDomain, reading: FileReading = 'dom'): DefinitionsFromFiles | undefined => {
    const file = `${ref.name}.xml`;
    const state = readIn(files.persistent, file);
    const persistent = domainIn(state, ref, reading);
    if (!persistent || persistent.element.hasAttribute('id')) return undefined;
    const persistentText = state?.kind === 'read' ? fromRoot(state.text) : undefined;
    if (!ref.active) return { persistent, ...(persistentText === undefined ? {} : { persistentText }) };
    const live = domainIn(readIn(files.live, file), ref, reading);
    if (!live || ref.id === undefined || live.element.getAttribute('id') !== String(ref.id)) return undefined;
    return { live, persistent, ...(persistentText === undefined ? {} : { persistentText }) };
  };
  const paths = (ref: ListedDomain): string[] => [pathIn(dirs.persistent, `${ref.name}.xml`), ...(ref.active ? [pathIn(dirs.live, `${ref.name}.xml`)] : [])];
  return { kind: 'current', of, paths };
}

/** The file's state, read now if it was only listed. */
function readIn(files: Map<string, FileState>, name: string): FileState | undefined {
  const state = files.get(name);
  if (state?.kind !== 'listed') return state;
  const read = readOne(state.path);
  files.set(name, read);
  return read;
}

function domainIn(state: FileState | undefined, ref: ListedDomain, reading: FileReading): Domain | undefined {
  if (state?.kind !== 'read') return undefined;
  const domain = reading === 'lean' ? readLeanDomain(state.text, state.path) : domainOf(parseDomainFile(Buffer.from(state.text, 'utf8'), state.path));
  return domain?.uuid === ref.uuid && domain.name === ref.name ? domain : undefined;
}

function domainOf(parsed: ParsedFile): Domain | undefined {
  return parsed.kind === 'domain' ? parsed.domain : undefined;
}
