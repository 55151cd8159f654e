/**
 * Where things are and which daemon to talk to (docs/design.md, "Contracts"): flags win over environment,
 * environment over the config file, the config file over the defaults.
 */
import { join } from 'node:path';
import { InputError, messageOf } from '../errors';
import { decodeUtf8, FileReadError, readRegularFile } from './file-read';
import { errnoCode } from './os-error';
import { parseIni, SECRET_KEY, type Ini } from '../core/ini';
import type { LibvirtClient } from './libvirt/open';

export const DEFAULTS = {
  configFile: '/etc/nova-ipmeta/nova-ipmeta.conf',
  stateDir: '/var/lib/nova-ipmeta',
  liveXmlDir: '/run/libvirt/qemu',
  persistentXmlDir: '/etc/libvirt/qemu',
} as const;

export interface Settings {
  /** undefined: virsh's own default (LIBVIRT_DEFAULT_URI, then qemu:///system as root). */
  readonly uri: string | undefined;
  /** `[libvirt] client`: `auto` (libvirt's socket when local, else virsh) or `virsh` (always). */
  readonly libvirtClient: LibvirtClient;
  readonly configFile: string;
  readonly stateDir: string;
  /** One nova network_info per instance: `<cacheDir>/<uuid>.json`. */
  readonly cacheDir: string;
  /** Empty: none (the read commands then ask libvirt). */
  readonly liveXmlDir: string;
  readonly persistentXmlDir: string;
  /** The parsed config file, for sections other commands read (e.g. [neutron]). */
  readonly ini: Ini;
}

export interface SettingFlags {
  readonly connect?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly config?: string | undefined;
  readonly liveXmlDir?: string | undefined;
  readonly persistentXmlDir?: string | undefined;
}

export function resolveSettings(flags: SettingFlags, env: NodeJS.ProcessEnv = process.env): Settings {
  const { configFile, explicit } = configFileOf(flags, env);
  return settingsOf(flags, env, configFile, readConfig(configFile, explicit));
}

/**
 * The settings from flags, environment and defaults alone, for what must go on when the config
 * file cannot be read (removing an installation: `setup`).
 */
export function settingsWithoutConfig(flags: SettingFlags, env: NodeJS.ProcessEnv = process.env): Settings {
  return settingsOf(flags, env, configFileOf(flags, env).configFile, new Map());
}

/** The config file: named by flag or environment (then it must be there), or the default. */
function configFileOf(flags: SettingFlags, env: NodeJS.ProcessEnv): { configFile: string; explicit: boolean } {
  const named = flags.config ?? nonEmpty(env.NOVA_IPMETA_CONFIG);
  return { configFile: named ?? DEFAULTS.configFile, explicit: named !== undefined };
}

function settingsOf(flags: SettingFlags, env: NodeJS.ProcessEnv, configFile: string, ini: Ini): Settings {
  const conf = (section: string, key: string) => nonEmpty(ini.get(section)?.get(key));
  const stateDir = flags.stateDir ?? nonEmpty(env.NOVA_IPMETA_STATE_DIR) ?? conf('DEFAULT', 'state_dir') ?? DEFAULTS.stateDir;
  return {
    uri: flags.connect ?? nonEmpty(env.LIBVIRT_DEFAULT_URI) ?? conf('libvirt', 'connection_uri'),
    libvirtClient: libvirtClient(conf('libvirt', 'client'), configFile),
    configFile,
    stateDir,
    cacheDir: join(stateDir, 'network_info'),
    // Set but empty means none (a containerized daemon's directories are not visible), not the default.
    liveXmlDir: flags.liveXmlDir ?? ini.get('libvirt')?.get('live_xml_dir') ?? DEFAULTS.liveXmlDir,
    persistentXmlDir: flags.persistentXmlDir ?? ini.get('libvirt')?.get('persistent_xml_dir') ?? DEFAULTS.persistentXmlDir,
    ini,
  };
}

function libvirtClient(value: string | undefined, configFile: string): LibvirtClient {
  if (value === undefined || value === 'auto' || value === 'virsh') return value ?? 'auto';
  // Not quoted: no error about the config file shows a value of it (a line may hold a password).
  throw new InputError(configFile, '[libvirt] client: expected auto or virsh');
}

/** Far more than any config file; what is larger is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The default config file may be absent; one named by flag or environment must be there. Read as
 * every input is: a regular file (a FIFO would hold every command until it is killed), bounded,
 * strict UTF-8.
 */
function readConfig(path: string, required: boolean): Ini {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(path, { maxBytes: MAX_CONFIG_BYTES });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' && !required) return new Map();
    const why = err instanceof FileReadError ? err.message : (code ?? messageOf(err));
    throw new InputError(path, `cannot read the config file: ${why}`);
  }
  return parseIni(decodeUtf8(bytes, path), path);
}

/**
 * Why the config file's secrets are exposed, when they are: it holds a password or a secret and
 * others may read it (`mode`, the file's; undefined when it could not be seen). The file is the
 * operator's: doctor and the installer say so, nothing changes it.
 */
export function exposedSecrets(configFile: string, ini: Ini, mode: number | undefined): string | undefined {
  const secrets = [...ini].flatMap(([section, keys]) => [...keys].filter(([key, value]) => SECRET_KEY.test(key) && value !== '').map(([key]) => `[${section}] ${key}`));
  if (secrets.length === 0 || mode === undefined || (mode & 0o004) === 0) return undefined;
  return `${configFile} holds a secret (${secrets.join(', ')}) and others can read it (mode ${(mode & 0o7777).toString(8).padStart(4, '0')})`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
