/**
 * `clouds.yaml` (openstacksdk's file), found and merged as openstacksdk does: the first of
 * `clouds.yaml`, `clouds.yml`, `clouds.json` in the current directory, `~/.config/openstack/`,
 * `/etc/xdg/openstack/` and `/etc/openstack/` (with `OS_CLIENT_CONFIG_FILE` tried before them),
 * a file it may not read skipped; then `secure.yaml` (or `OS_CLIENT_SECURE_FILE`), found the same
 * way, merged over it key by key, so passwords can live in a file of their own. YAML is read
 * with a tiny parser of the subset these files use: nested block mappings, plain or quoted
 * scalars, comments, and block or flow lists of scalars. Anything else (anchors, multi-line
 * strings...) is an error naming the line and the key, never a silent misreading, and never
 * showing the value: it may be a password. No YAML library: the bundle stays dependency-free here.
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
    // V8's message quotes the input around the error, a password perhaps: only its position is kept.
    const at = /at position (\d+)/.exec(messageOf(err));
    if (!at) throw new InputError(source, 'not valid JSON');
    const before = text.slice(0, Number(at[1])).split('\n');
    throw new InputError(`${source}:${before.length}`, `not valid JSON (column ${(before.at(-1)?.length ?? 0) + 1})`);
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

/**
 * PyYAML's reader refuses these anywhere in the file (its printable set); a control character
 * read as part of a password would be a silent misreading, so they are refused here too.
 */
const NON_PRINTABLE = /[^\t\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** What can start a value of the subset; the other indicators start YAML this reader does not read. */
const UNSUPPORTED_START = /^(?:[,[\]{}&*!|>%@`]|[-?:](?:\s|$))/;

export function parseYamlSubset(text: string, source: string): YamlMap {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (NON_PRINTABLE.test(raw)) throw new InputError(`${source}:${i + 1}`, 'a control character (YAML allows none but tab)');
    const body = stripComment(raw).trimEnd();
    if (body.trim() === '' || body === '---') return;
    if (/^\s*\t/.test(raw)) throw new InputError(`${source}:${i + 1}`, 'a tab in the indentation');
    lines.push({ n: i + 1, indent: body.length - body.trimStart().length, text: body.trimStart() });
  });
  let pos = 0;

  // `path` names the value in an error (clouds.mycloud.auth.password); the value itself may be a
  // secret, so no error of this reader ever shows any part of it.
  function block(indent: number, path: string): YamlValue {
    const first = lines[pos];
    if (!first) return {};
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: YamlValue[] = [];
      while (pos < lines.length && lines[pos]?.indent === indent && lines[pos]?.text.startsWith('-')) {
        const line = lines[pos] as Line;
        pos++;
        list.push(scalar(line.text.slice(1).trim(), line, `${path}[${list.length}]`));
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
      const key = unquote(m[1], `${source}:${line.n}`, path ? `a key under ${path}` : 'a key');
      const keyPath = path ? `${path}.${key}` : key;
      pos++;
      const rest = m[2]?.trim() ?? '';
      if (rest !== '') map[key] = scalar(rest, line, keyPath);
      else {
        const next = lines[pos];
        map[key] = next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- '))) ? block(next.indent, keyPath) : '';
      }
    }
    return map;
  }

  function scalar(t: string, line: Line, path: string, inFlow = false): YamlValue {
    const where = `${source}:${line.n}`;
    if (!inFlow && t.startsWith('[') && t.endsWith(']')) {
      const items = splitFlow(t.slice(1, -1)).map((s) => s.trim());
      // YAML allows a trailing comma; an empty item elsewhere is an error to PyYAML
      if (items.at(-1) === '') items.pop();
      if (items.includes('')) throw new InputError(where, `${path}: an empty item in a [...] list`);
      return items.map((s, i) => scalar(s, line, `${path}[${i}]`, true));
    }
    if (UNSUPPORTED_START.test(t)) throw new InputError(where, `${path}: unsupported YAML value (an anchor, alias, tag, block or flow value, or a reserved character; quote it)`);
    return unquote(t, where, path);
  }

  const doc = block(0, '');
  if (pos < lines.length) throw new InputError(`${source}:${lines[pos]?.n ?? 0}`, 'unexpected indentation');
  if (!isMap(doc)) throw new InputError(source, 'not a mapping');
  return doc;
}

/** The items of a flow list's inside: split at commas, but not at one inside quotes. */
function splitFlow(inner: string): string[] {
  const items: string[] = [];
  let from = 0;
  for (const comma of outsideQuotes(inner, (c) => c === ',')) {
    items.push(inner.slice(from, comma));
    from = comma + 1;
  }
  items.push(inner.slice(from));
  return items;
}

/** Where in `text`, outside quoted scalars ('...', or "..." with its \ escapes), `wanted` holds. */
function outsideQuotes(text: string, wanted: (c: string, i: number) => boolean): number[] {
  const found: number[] = [];
  let q: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = undefined;
    } else if (c === '"' || c === "'") q = c;
    else if (wanted(c, i)) found.push(i);
  }
  return found;
}

/** YAML 1.2's double-quoted escapes (spec 5.7), which are PyYAML's too; JSON has fewer. */
const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPES: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/**
 * A scalar's text: a quoted one decoded, a plain one as it is. `what` names it in an error; the
 * value is never shown, since it may be a password.
 */
function unquote(t: string, where: string, what: string): string {
  const fail = (problem: string) => new InputError(where, `${what}: ${problem}`);
  const open = t[0];
  if (open !== '"' && open !== "'") return t;
  let out = '';
  let i = 1;
  for (;;) {
    const c = t[i];
    // a quoted value may span lines in YAML, not in this subset
    if (c === undefined) throw fail('a quoted value not closed on its line');
    if (c === open) {
      if (open === "'" && t[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      if (i !== t.length - 1) throw fail('text after a quoted value');
      break;
    }
    if (c !== '\\' || open === "'") {
      out += c;
      i++;
      continue;
    }
    const e = t[i + 1] ?? '';
    const digits = HEX_ESCAPES[e];
    if (digits === undefined) {
      const decoded = ESCAPES[e];
      if (decoded === undefined) throw fail('an unknown \\ escape in a double-quoted value');
      out += decoded;
      i += 2;
      continue;
    }
    const hex = t.slice(i + 2, i + 2 + digits);
    const code = hex.length === digits && /^[0-9a-fA-F]+$/.test(hex) ? parseInt(hex, 16) : undefined;
    if (code === undefined || code > 0x10ffff) throw fail(`a \\${e} escape without ${digits} hex digits of a character`);
    out += String.fromCodePoint(code);
    i += 2 + digits;
  }
  // \u escapes are UTF-16 units: a pair makes one character, a lone half makes none
  if (/\p{Cs}/u.test(out)) throw fail('a \\u or \\U escape of half a surrogate pair');
  return out;
}

/** Drops a `#` comment: at the line start or after a space, and not inside quotes. */
function stripComment(line: string): string {
  const at = outsideQuotes(line, (c, i) => c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t'))[0];
  return at === undefined ? line : line.slice(0, at);
}
