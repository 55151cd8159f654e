/**
 * `nova-ipmeta hook NAME OPERATION SUB-OPERATION EXTRA`: the engine behind hooks/qemu for the two
 * operations whose stdout replaces the domain XML, an incoming migration and a restore from a
 * saved image (DESIGN §1). libvirt waits on it, so it is dispatched before the CLI loads (it
 * reaches neither yargs nor execa: test/commands/hook.test.ts walks its imports), calls no
 * libvirt, and turns nothing into a failure: the XML is printed only when nova-ipmeta changed it;
 * trouble is one line on stderr (hooks/qemu sends it to the log) and exit 0, and libvirt keeps
 * the XML it had.
 */
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings } from '../../adapters/settings';
import { parseDomain } from '../../core/domain';
import { injectPorts } from '../../core/inject';
import { serializeXml } from '../../core/xml-document';
import { oneLine, quote } from '../../errors';
import type { Io } from '../../io';

/** The operations whose output libvirt uses as the new domain XML; for every other, nothing. */
const FILTER_OPERATIONS: ReadonlySet<string> = new Set(['migrate', 'restore']);

export type HookRewrite =
  | { readonly kind: 'changed'; readonly xml: string }
  | { readonly kind: 'unchanged'; readonly why: 'not-nova' | 'in-sync' }
  | { readonly kind: 'no-cache'; readonly uuid: string };

export async function runHook(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name = '', operation = ''] = argv;
  if (!FILTER_OPERATIONS.has(operation)) return 0;
  const log = (what: string) => {
    io.err(`nova-ipmeta: hook ${operation} ${quote(name)}: ${what}; libvirt keeps its XML\n`);
  };
  try {
    const xml = await io.readStdin();
    const result = rewriteDomainXml(xml, new CacheStore(resolveSettings({}, env).cacheDir));
    if (result.kind === 'changed') io.out(result.xml);
    else if (result.kind === 'no-cache') log(`no cached network_info for ${result.uuid}`);
  } catch (err) {
    log(oneLine(err instanceof Error ? err.message : String(err)));
  }
  return 0;
}

/** The domain XML with the cached ports in place, when that changes anything. */
export function rewriteDomainXml(xml: string, cache: CacheStore): HookRewrite {
  const domain = parseDomain(xml, 'stdin');
  if (!domain.nova) return { kind: 'unchanged', why: 'not-nova' };
  const cached = cache.read(domain.uuid);
  if (cached.kind === 'missing') return { kind: 'no-cache', uuid: domain.uuid };
  if (cached.kind === 'invalid') throw cached.error;
  const result = injectPorts(domain, cached.vifs);
  if (result.kind !== 'changed') return { kind: 'unchanged', why: 'in-sync' };
  return { kind: 'changed', xml: `${serializeXml(domain.doc)}\n` };
}
