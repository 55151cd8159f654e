/**
 * A command is declared once, as plain data (its words, options and positionals), and everything
 * else comes from that declaration: the parser (./parse.ts), the help text and the shell
 * completion (./help.ts), the man-page test, and the type of the arguments its `run` receives
 * (`ArgsOf`), so a run function cannot read an option the declaration lacks.
 */
import type { Io } from '../io';
import type { ExitCode } from '../exit-code';

interface OptionBase {
  readonly describe: string;
  /** A one-letter alias: `-f`. */
  readonly short?: string;
}

export interface StringOption extends OptionBase {
  readonly type: 'string';
  /** The value's name in help: `--format FORMAT`. */
  readonly valueName?: string;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Repeatable: the value is a list. */
  readonly multiple?: boolean;
  /** An empty value means something (`--live-xml-dir ''`: none); otherwise it is a usage error. */
  readonly allowEmpty?: boolean;
}

export interface NumberOption extends OptionBase {
  readonly type: 'number';
  readonly valueName?: string;
  readonly default?: number;
}

/** A flag: false unless given. */
export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
}

export type OptionSpec = StringOption | NumberOption | BooleanOption;

export interface PositionalSpec {
  /** As shown in help (`network-info`); the parsed value is under the camelCase name. */
  readonly name: string;
  readonly describe: string;
  readonly required?: boolean;
  readonly default?: string;
}

export interface CommandSpec {
  /** One word, or a group and a word: `cache put`. */
  readonly name: string;
  readonly describe: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Left out of the command list in help (the hook's engine); still parsed and documented. */
  readonly hidden?: boolean;
}

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

type OptionValue<O> = O extends { readonly type: 'boolean' }
  ? boolean
  : O extends { readonly type: 'number' }
    ? O extends { readonly default: number }
      ? number
      : number | undefined
    : O extends { readonly multiple: true }
      ? O extends { readonly choices: readonly (infer C)[] }
        ? C[]
        : string[]
      : O extends { readonly choices: readonly (infer C)[] }
        ? O extends { readonly default: string }
          ? C
          : C | undefined
        : O extends { readonly default: string }
          ? string
          : string | undefined;

type PositionalValue<P> = P extends { readonly required: true } ? string : P extends { readonly default: string } ? string : string | undefined;

/** The arguments a command's `run` receives: camelCase names, types from the declaration. */
export type ArgsOf<S extends CommandSpec> = {
  readonly [K in keyof S['options'] & string as CamelCase<K>]: OptionValue<S['options'][K]>;
} & {
  readonly [P in S['positionals'][number] as CamelCase<P['name']>]: PositionalValue<P>;
};

/** The module a command's work lives in, loaded only when the command runs. */
export interface CommandModule<S extends CommandSpec> {
  run(args: ArgsOf<S>, io: Io): Promise<ExitCode>;
}

/** A declared command, its argument type hidden, so commands of every kind share one list. */
export interface Command {
  readonly spec: CommandSpec;
  /** Runs the command on already parsed arguments (see ./parse.ts). */
  readonly invoke: (args: Readonly<Record<string, unknown>>, io: Io) => Promise<ExitCode>;
}

/**
 * Ties a declaration to the module that does the work. `load` is a plain lazy `import()`, so a
 * command's code (and the adapters it needs) is not even compiled until the command runs; the
 * type check makes sure that module's `run` takes exactly `ArgsOf<typeof spec>`.
 */
export function defineCommand<const S extends CommandSpec>(spec: S, load: () => Promise<CommandModule<S>>): Command {
  return {
    spec,
    // The parser builds the arguments from this very spec: they are ArgsOf<S> by construction.
    invoke: async (args, io) => (await load()).run(args as ArgsOf<S>, io),
  };
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
