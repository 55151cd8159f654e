/**
 * `clouds.yaml` (openstacksdk's file): found where the OpenStack tools look (./clouds.yaml,
 * ~/.config/openstack/, /etc/openstack/, first found wins), read with a tiny parser of the YAML
 * subset these files use: nested block mappings, plain or quoted scalars, comments, and block or
 * flow lists of scalars. Anything else (anchors, multi-line strings...) is an error naming the
 * line, never a silent misreading. No YAML library: the bundle stays dependency-free here.
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

export function cloudsYamlPaths(cwd = process.cwd(), home = homedir()): string[] {
  return [join(cwd, 'clouds.yaml'), join(home, '.config', 'openstack', 'clouds.yaml'), '/etc/openstack/clouds.yaml'];
}

/** The `clouds.<name>` mapping of the first clouds.yaml found. */
export function readCloud(name: string, paths = cloudsYamlPaths()): { cloud: YamlMap; path: string } {
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw new InputError(path, `cannot read: ${errnoCode(err) ?? messageOf(err)}`);
    }
    const doc = parseYamlSubset(text, path);
    const clouds = doc.clouds;
    const cloud = clouds !== undefined && isMap(clouds) ? clouds[name] : undefined;
    if (cloud === undefined || !isMap(cloud)) throw new InputError(path, `no cloud named ${quote(name)} under clouds:`);
    return { cloud, path };
  }
  throw new InputError('OS_CLOUD', `cloud ${quote(name)} given but no clouds.yaml found (looked in ${paths.join(', ')})`);
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
