/**
 * A command is declared once, in plain data, and parsed by either of two parsers: yargs for the
 * admin CLI (help, validation, completion), or node's `util.parseArgs` for the pipeline commands
 * that libvirt or scripts wait on, where loading yargs would cost more than the work itself.
 */
import type { Io } from '../io';

export interface OptionSpec {
  readonly type: 'string' | 'boolean' | 'number';
  readonly describe: string;
  readonly default?: string | boolean | number;
  readonly choices?: readonly string[];
  /** Repeatable: the value is a list. */
  readonly array?: boolean;
}

export interface PositionalSpec {
  /** Kebab case as shown in help; the parsed value is under the camelCase name. */
  readonly name: string;
  readonly describe: string;
  readonly required?: boolean;
  readonly default?: string;
}

export interface Command<A extends object> {
  /** One word, or a group and a word: `cache put`. */
  readonly name: string;
  readonly describe: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Parsed without yargs when its argv has no help request (see ./lean-parse). */
  readonly lean?: boolean;
  readonly run: (args: A, io: Io) => Promise<number>;
}

// `never` as the argument type lets a list hold commands of different argument types.
export type AnyCommand = Command<never>;

export function defineCommand<A extends object>(c: Command<A>): AnyCommand {
  return c;
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Options every command takes (DESIGN §4: flags win over environment, environment over config). */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', default: false, describe: 'machine-readable output' },
  connect: { type: 'string', describe: 'libvirt URI (env LIBVIRT_DEFAULT_URI)' },
  'state-dir': { type: 'string', describe: 'state directory (env NOVA_IPMETA_STATE_DIR, default /var/lib/nova-ipmeta)' },
  config: { type: 'string', describe: 'config file (env NOVA_IPMETA_CONFIG, default /etc/nova-ipmeta/nova-ipmeta.conf)' },
  'live-xml-dir': { type: 'string', describe: 'live domain XML directory (default /run/libvirt/qemu)' },
  'persistent-xml-dir': { type: 'string', describe: 'persistent domain XML directory (default /etc/libvirt/qemu)' },
};
