/**
 * `nova-ipmeta hook NAME OPERATION SUB-OPERATION EXTRA`: the engine behind hooks/qemu for the two
 * operations whose stdout replaces the domain XML, an incoming migration and a restore from a
 * saved image (docs/design.md, "The hook"). libvirt waits on it, so src/main.ts dispatches it
 * before the CLI loads (test/commands/hook walks its imports: no CLI, no process), calls no
 * libvirt, and turns nothing into a failure: the XML is printed only when nova-ipmeta changed it;
 * trouble is one line on stderr (hooks/qemu sends it to the log) and exit 0, and libvirt keeps
 * the XML it had. hooks/qemu reads stdout and stderr as one stream, so at exit 0 the output is
 * the XML alone, one line that does not start with `<`, or nothing, and the input has then been
 * read to its end: the hook drains nothing after it (docs/design.md, "The filter's one stream").
 */
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings } from '../../adapters/settings';
import { readDomainToChange } from '../../core/domain-change';
import { injectPorts } from '../../core/inject';
import { MAX_XML_BYTES } from '../../core/xml-document';
import { decodeUtf8 } from '../../adapters/file-read';
import { messageOf, oneLine, quote } from '../../errors';
import { ExitCode } from '../../exit-code';
import type { Io } from '../../io';
import type { Args } from './command';

/** The operations whose output libvirt uses as the new domain XML; for every other, nothing. */
const FILTER_OPERATIONS: ReadonlySet<string> = new Set(['migrate', 'restore']);

export type HookRewrite =
  | { readonly kind: 'changed'; readonly xml: string }
  | { readonly kind: 'unchanged'; readonly why: 'not-nova' | 'in-sync' }
  | { readonly kind: 'no-cache'; readonly uuid: string };

/** libvirt's words as they come (`NAME OPERATION SUB-OPERATION EXTRA`), parsed without the CLI. */
export function runHook(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const [domain = '', operation = '', subOperation = '-', extra = '-'] = argv;
  return run({ domain, operation, subOperation, extra }, io, env);
}

export async function run(args: Args, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const { domain: name, operation } = args;
  if (!FILTER_OPERATIONS.has(operation)) return ExitCode.ok;
  const log = (what: string) => {
    io.err(`nova-ipmeta: hook ${operation} ${quote(name)}: ${what}; libvirt keeps its XML\n`);
  };
  try {
    const xml = decodeUtf8(await io.readStdin(MAX_XML_BYTES), 'stdin');
    const result = rewriteDomainXml(xml, new CacheStore(resolveSettings({}, env).cacheDir));
    if (result.kind === 'changed') io.out(result.xml);
    else if (result.kind === 'no-cache') log(`no cached network_info for ${result.uuid}`);
  } catch (err) {
    log(oneLine(messageOf(err)));
  }
  return ExitCode.ok;
}

/**
 * The domain XML with the cached ports in place, when that changes anything. libvirt's plain XML
 * is read, changed and printed without loading the XML library (core/domain-change.ts): an
 * incoming domain is mostly in sync already (nova-ipmeta on the source host kept it so), and a
 * rewrite prints the text libvirt gave with `<nova:ports>` alone written anew.
 */
export function rewriteDomainXml(xml: string, cache: CacheStore): HookRewrite {
  const { domain, text } = readDomainToChange(xml, 'stdin');
  if (!domain.nova) return { kind: 'unchanged', why: 'not-nova' };
  const cached = cache.read(domain.uuid);
  if (cached.kind === 'missing') return { kind: 'no-cache', uuid: domain.uuid };
  if (cached.kind === 'invalid') throw cached.error;
  if (injectPorts(domain, cached.vifs).kind !== 'changed') return { kind: 'unchanged', why: 'in-sync' };
  return { kind: 'changed', xml: text() };
}
