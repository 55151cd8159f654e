/**
 * The one command-line parser: node's own `util.parseArgs` (no library to load at start-up),
 * driven by a command's declaration. Strict: an unknown option, a missing or empty value, a value
 * outside `choices`, a number that is not one, a missing or extra positional are usage errors
 * naming the culprit, never ignored.
 */
import { parseArgs } from 'node:util';
import { UsageError, quote } from '../errors';
import { camelCase, type CommandSpec, type OptionSpec } from './spec';

export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): Record<string, unknown> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(spec.options).map(([name, o]) => [
          name,
          {
            type: o.type === 'boolean' ? 'boolean' : 'string',
            multiple: o.type === 'string' && o.multiple === true,
            ...(o.short === undefined ? {} : { short: o.short }),
          },
        ]),
      ),
    });
  } catch (err) {
    throw new UsageError(describeParseError(err), spec.name);
  }
  const args: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    args[camelCase(name)] = optionValue(spec, name, option, parsed.values[name]);
  }
  const extra = parsed.positionals.slice(spec.positionals.length);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quote(extra[0])}`, spec.name);
  spec.positionals.forEach((p, i) => {
    const value = parsed.positionals[i] ?? p.default;
    if (value === undefined && p.required) throw new UsageError(`missing ${p.name.toUpperCase()}`, spec.name);
    args[camelCase(p.name)] = value;
  });
  return args;
}

function optionValue(spec: CommandSpec, name: string, option: OptionSpec, raw: string | boolean | (string | boolean)[] | undefined): unknown {
  switch (option.type) {
    case 'boolean':
      return raw === true;
    case 'number': {
      if (raw === undefined) return option.default;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${quote(raw)}`, spec.name);
      return n;
    }
    case 'string': {
      const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
      // `--domain=` must not mean "no domain named", which is every domain.
      if (!option.allowEmpty && values.includes('')) throw new UsageError(`--${name}: an empty value`, spec.name);
      for (const v of values) {
        if (option.choices && !option.choices.includes(v)) {
          throw new UsageError(`--${name}: expected ${option.choices.join(', ')}; got ${quote(v)}`, spec.name);
        }
      }
      if (option.multiple) return values;
      return values[0] ?? option.default;
    }
  }
}

/** parseArgs's messages, shortened to the point: `unknown option --x`, `--domain needs a value`. */
function describeParseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = (e.message ?? String(err)).split('\n')[0] ?? '';
  const quoted = /'(-[^']*)'/.exec(message)?.[1] ?? '';
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
    if (/ambiguous/.test(message)) return `${option} needs a value (one that starts with a dash: ${option}=-X)`;
    return `${option} needs a value`;
  }
  return message;
}
