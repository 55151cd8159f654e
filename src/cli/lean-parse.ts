/**
 * The yargs-free parser for `lean` commands. It accepts only what is plainly valid and declines
 * (returns undefined) on anything else, so yargs then produces the proper help or error message.
 */
import { parseArgs } from 'node:util';
import { camelCase, GLOBAL_OPTIONS, type AnyCommand } from './command';

export function leanParse(command: AnyCommand, argv: readonly string[]): Record<string, unknown> | undefined {
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return undefined;
  const specs = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, s]) => [name, { type: s.type === 'boolean' ? 'boolean' : 'string', multiple: !!s.array }]),
      ),
    });
  } catch {
    return undefined;
  }
  const args: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    let value: unknown = parsed.values[name] ?? spec.default;
    if (spec.type === 'number' && typeof value === 'string') {
      value = Number(value);
      if (!Number.isFinite(value)) return undefined;
    }
    if (typeof value === 'string' && spec.choices && !spec.choices.includes(value)) return undefined;
    if (value !== undefined) args[camelCase(name)] = value;
  }
  const positionals = command.positionals ?? [];
  if (parsed.positionals.length > positionals.length) return undefined;
  for (const [i, p] of positionals.entries()) {
    const value = parsed.positionals[i] ?? p.default;
    if (value === undefined && p.required) return undefined;
    if (value !== undefined) args[camelCase(p.name)] = value;
  }
  return args;
}
