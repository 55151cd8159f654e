/**
 * `clouds.yaml` (openstacksdk's file), found and merged as openstacksdk does: the first of
 * `clouds.yaml`, `clouds.yml`, `clouds.json` in the current directory, `~/.config/openstack/`,
 * `/etc/xdg/openstack/` and `/etc/openstack/` (with `OS_CLIENT_CONFIG_FILE` tried before them),
 * a file it may not read skipped; then `secure.yaml` (or `OS_CLIENT_SECURE_FILE`), found the same
 * way, merged over it key by key, so passwords can live in a file of their own. YAML is read
 * with a tiny parser of the subset these files use: nested block mappings, plain or quoted
 * scalars, comments, and block or flow lists of scalars. Anything else (anchors, multi-line
 * strings...) is an error naming the line, never a silent misreading. No YAML library: the
 * bundle stays dependency-free here.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, messageOf, quote } from '../../errors';
import { errnoCode } from '../os-error';

export type YamlValue = string | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export interface CloudsFiles {
  readonly clouds: readonly string[];
  readonly secure: readonly string[];
}

export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), home = homedir()): CloudsFiles {
  const dirs = [cwd, join(env.XDG_CONFIG_HOME || join(home, '.config'), 'openstack'), join(home, '.config', 'openstack'), '/etc/xdg/openstack', '/etc/openstack'];
  const files = (stem: string) => [...new Set(dirs)].flatMap((d) => ['.yaml', '.yml', '.json'].map((s) => join(d, `${stem}${s}`)));
  const first = (override: string | undefined, list: string[]) => (override ? [override, ...list] : list);
  return { clouds: first(env.OS_CLIENT_CONFIG_FILE, files('clouds')), secure: first(env.OS_CLIENT_SECURE_FILE, files('secure')) };
}

/** The `clouds.<name>` mapping of the first clouds file found, with secure.yaml merged over it. */
export function readCloud(name: string, files = cloudsYamlPaths()): { cloud: YamlMap; path: string; secure: string | undefined } {
  const found = loadFirst(files.clouds);
  if (!found) throw new InputError('OS_CLOUD', `cloud ${quote(name)} given but no clouds.yaml found (looked in ${files.clouds.join(', ')})`);
  const secure = loadFirst(files.secure);
  const doc = secure ? merge(found.doc, secure.doc) : found.doc;
  const clouds = doc.clouds;
  const cloud = clouds !== undefined && isMap(clouds) ? clouds[name] : undefined;
  if (cloud === undefined || !isMap(cloud)) throw new InputError(found.path, `no cloud named ${quote(name)} under clouds:`);
  return { cloud, path: found.path, secure: secure?.path };
}

/** The first file of the list that exists and may be read; openstacksdk skips one it may not read. */
function loadFirst(paths: readonly string[]): { doc: YamlMap; path: string } | undefined {
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') continue;
      throw new InputError(path, `cannot read: ${code ?? messageOf(err)}`);
    }
    return { doc: path.endsWith('json') ? parseJsonConfig(text, path) : parseYamlSubset(text, path), path };
  }
  return undefined;
}

/** openstacksdk's merge_clouds: like an update, but mappings are merged key by key. */
function merge(base: YamlMap, over: YamlMap): YamlMap {
  const out: YamlMap = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const old = out[k];
    out[k] = isMap(v) && old !== undefined && isMap(old) ? merge(old, v) : v;
  }
  return out;
}

/** clouds.json: scalars become the text YAML would give them (true, 5), null an empty value. */
function parseJsonConfig(text: string, source: string): YamlMap {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `not JSON: ${messageOf(err)}`);
  }
  const convert = (v: unknown): YamlValue => {
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  };
  const doc = convert(json);
  if (!isMap(doc)) throw new InputError(source, 'not a mapping');
  return doc;
}

/** A YAML 1.1 boolean as PyYAML reads one (true/yes/on, false/no/off, any case), or undefined. */
export function yamlBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === 'no' || v === 'off') return false;
  return undefined;
}

export function isMap(v: YamlValue | undefined): v is YamlMap {
  return v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

interface Line {
  readonly n: number;
  readonly indent: number;
  readonly text: string;
}

export function parseYamlSubset(text: string, source: string): YamlMap {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const body = stripComment(raw).trimEnd();
    if (body.trim() === '' || body === '---') return;
    if (/^\s*\t/.test(raw)) throw new InputError(`${source}:${i + 1}`, 'a tab in the indentation');
    lines.push({ n: i + 1, indent: body.length - body.trimStart().length, text: body.trimStart() });
  });
  let pos = 0;

  function block(indent: number): YamlValue {
    const first = lines[pos];
    if (!first) return {};
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: YamlValue[] = [];
      while (pos < lines.length && lines[pos]?.indent === indent && lines[pos]?.text.startsWith('-')) {
        const line = lines[pos] as Line;
        pos++;
        list.push(scalar(line.text.slice(1).trim(), line));
      }
      return list;
    }
    const map: YamlMap = {};
    while (pos < lines.length) {
      const line = lines[pos] as Line;
      if (line.indent < indent) break;
      if (line.indent > indent) throw new InputError(`${source}:${line.n}`, 'unexpected indentation');
      const m = /^("[^"]*"|'[^']*'|[^:]+?)\s*:(?:\s+(.*))?$/.exec(line.text);
      if (!m?.[1]) throw new InputError(`${source}:${line.n}`, 'expected "key: value" (only a subset of YAML is read)');
      const key = unquote(m[1]);
      pos++;
      const rest = m[2]?.trim() ?? '';
      if (rest !== '') map[key] = scalar(rest, line);
      else {
        const next = lines[pos];
        map[key] = next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- '))) ? block(next.indent) : '';
      }
    }
    return map;
  }

  function scalar(t: string, line: Line): YamlValue {
    if (t.startsWith('[') && t.endsWith(']')) {
      const inner = t.slice(1, -1).trim();
      return inner === '' ? [] : inner.split(',').map((s) => scalar(s.trim(), line));
    }
    if (/^[&*!|>{]/.test(t)) throw new InputError(`${source}:${line.n}`, `unsupported YAML ${quote(t.slice(0, 20))}`);
    return unquote(t);
  }

  const doc = block(0);
  if (pos < lines.length) throw new InputError(`${source}:${lines[pos]?.n ?? 0}`, 'unexpected indentation');
  if (!isMap(doc)) throw new InputError(source, 'not a mapping');
  return doc;
}

function unquote(t: string): string {
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return JSON.parse(t) as string;
  return t;
}

/** Drops a `#` comment: at the line start or after a space, and not inside quotes. */
function stripComment(line: string): string {
  let q: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = undefined;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return line.slice(0, i);
  }
  return line;
}
