/**
 * The INI dialect of oslo.config (`oslo_config/iniparser.py` and `cfg.ConfigParser`), for
 * nova-compute's own files and for ours alike, so that a file either reads the same way nova
 * reads it or is refused the way nova would refuse it (docs/design.md, "Facts about Neutron and
 * deployments"):
 *
 * - a line is `[section]`, `key = value` or `key: value` (whichever of `=` and `:` comes first
 *   separates), a comment (`#` or `;` as the first character of the line), or blank;
 * - the value is stripped, and one pair of matching surrounding quotes (`"` or `'`) is removed;
 * - a line that starts with a space or a tab continues the previous value (joined with a line
 *   break); a blank line ends it; an indented line with no value before it is an error;
 * - section names are case-insensitive except `DEFAULT`; keys are case-sensitive;
 * - a key given twice keeps its last value, within a file and across files (`mergeIni`: later
 *   files win, as oslo.config's later `--config-file`s and `--config-dir` files do).
 *
 * Errors name the file and the line but never quote it: a line of nova.conf may hold a password.
 */
import { InputError } from '../errors';

export type Ini = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Python's `str.isspace()` set, which `strip()` and `rstrip()` remove. */
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRAILING = new RegExp(`${PY_SPACE}+$`);
const LEADING = new RegExp(`^${PY_SPACE}+`);
const rstrip = (s: string) => s.replace(TRAILING, '');
const strip = (s: string) => rstrip(s).replace(LEADING, '');

/** `DEFAULT` as written, any other section in lower case (oslo.config's `_normalize_group_name`). */
export function sectionName(name: string): string {
  return name === 'DEFAULT' ? name : name.toLowerCase();
}

export function parseIni(text: string, source: string): Ini {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let key: string | undefined;
  let value: string[] = [];
  let keyLine = 0;
  const fail = (n: number, problem: string) => new InputError(`${source}:${n}`, problem);
  const flush = () => {
    if (key === undefined) return;
    if (!section) throw fail(keyLine, 'a key before any [section]');
    section.set(key, value.join('\n'));
    key = undefined;
    value = [];
  };
  // Python reads the file in text mode: \r\n and a lone \r end a line too.
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = rstrip(raw);
    if (line === '') {
      flush();
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (key === undefined) throw fail(n, 'an indented line continues no value (indentation continues the value above)');
      value.push(line.replace(LEADING, ''));
      return;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw fail(n, 'a section header must end with "]"');
      if (line.length <= 2) throw fail(n, 'an empty section name');
      const name = sectionName(line.slice(1, -1));
      section = sections.get(name) ?? new Map<string, string>();
      sections.set(name, section);
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) return;
    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    if (colon < 0 && equal < 0) throw fail(n, 'expected "key = value", "key: value" or "[section]"');
    const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    const k = strip(line.slice(0, at));
    if (k === '') throw fail(n, 'an empty key');
    let v = strip(line.slice(at + 1));
    if (v !== '' && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
    key = k;
    value = [v];
    keyLine = n;
  });
  flush();
  return sections;
}

/** The options oslo.config declares secret that nova-ipmeta reads: keystoneauth's password and secrets. */
export const SECRET_KEY = /^(password|\w*secret)$/;

/**
 * Python's string.Template as oslo.config sets it up (`ConfigOpts.Template`): `$$`, `$name` or
 * `${name}` with a name of letters in either case, digits, `_` and `.`; any other `$` is left.
 */
const TEMPLATE = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})/gi;

/**
 * Option `key` of `section` as oslo.config hands it to nova (`ConfigOpts._substitute`): `\$` and
 * `$$` are a `$`; `$name` and `${name}` are the value of option `name` of the same section, else
 * of [DEFAULT]; `$group.name` that of `[group]`; each substituted in turn. oslo.config asks the
 * options nova registered, and one the files do not set has its default there, which is nova's
 * code, not the files: such a reference is an error here (nova fails too on a name no option
 * has). undefined when the files do not set `key`. Messages name the option and the reference,
 * but never a secret option's reference: it is part of the secret.
 */
export function optionValue(ini: Ini, section: string, key: string, source: string): string | undefined {
  return substituted(ini, section, key, source, []);
}

function substituted(ini: Ini, section: string, key: string, source: string, path: readonly string[]): string | undefined {
  const raw = ini.get(section)?.get(key);
  if (raw === undefined || !raw.includes('$')) return raw;
  const here = `[${section}] ${key}`;
  const asked = path[0] ?? here;
  const shown = SECRET_KEY.test(key) ? 'a $ reference' : undefined;
  if (path.includes(here)) throw new InputError(source, `${asked}: its $ references loop back to ${here}`);
  // oslo.config first makes every `\$` a `$$` (the replacement '$$$$' writes `$$`).
  return raw.replaceAll('\\$', '$$$$').replace(TEMPLATE, (_whole, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (escaped !== undefined) return '$';
    const name = named ?? braced ?? '';
    const found = referenced(ini, section, name);
    if (!found) throw new InputError(source, `${asked}: ${shown ?? `$${name}`} names an option the config files do not set (a literal $ is written $$)`);
    return substituted(ini, found[0], found[1], source, [...path, here]) ?? '';
  });
}

/**
 * The section and key a `$name` in `section` stands for: `name` of that section, else of
 * [DEFAULT]; `group.name` of [group] as written (oslo.config knows no group DEFAULT, and
 * compares group names as given).
 */
function referenced(ini: Ini, section: string, name: string): [string, string] | undefined {
  const dot = name.indexOf('.');
  if (dot < 0) return ini.get(section)?.has(name) ? [section, name] : ini.get('DEFAULT')?.has(name) ? ['DEFAULT', name] : undefined;
  const [group, option] = [name.slice(0, dot), name.slice(dot + 1)];
  return group !== 'DEFAULT' && ini.get(group)?.has(option) ? [group, option] : undefined;
}

/** Several files read as one: each key takes its value from the last file that sets it. */
export function mergeIni(files: readonly Ini[]): Ini {
  const merged = new Map<string, Map<string, string>>();
  for (const file of files) {
    for (const [name, keys] of file) {
      const section = merged.get(name) ?? new Map<string, string>();
      merged.set(name, section);
      for (const [k, v] of keys) section.set(k, v);
    }
  }
  return merged;
}
