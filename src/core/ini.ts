/**
 * The INI dialect OpenStack services use (oslo.config): `[section]`, `key = value`, `#` or `;`
 * comments. Malformed lines are errors with their line number, never silently skipped.
 */
import { InputError } from '../errors';

export type Ini = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function parseIni(text: string, source: string): Ini {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header?.[1]) {
      const name = header[1].trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError(`${source}:${i + 1}`, `expected "key = value" or "[section]", got ${JSON.stringify(line)}`);
    if (!current) throw new InputError(`${source}:${i + 1}`, 'a key before any [section]');
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  return sections;
}
