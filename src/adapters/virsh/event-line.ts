/**
 * One line of `virsh event --all --loop --timestamp` output, parsed (pure: no I/O).
 *
 * virsh prints `[<timestamp>: ]event '<type>' for domain '<name>'[: <detail>]` (libvirt's
 * virsh-domain-event.c) and does not escape the name, which may hold quotes, spaces and even
 * `': `. Names cannot hold a newline (libvirt refuses them), so one event is one line, except for
 * the few types that print their parameters on continuation lines (tunable, job-completed,
 * memory-failure...): those lines are not events and parse to undefined. The detail of every
 * type the watcher acts on (a device alias, `type element, uri <uri>`, two lifecycle words)
 * never holds `': `, so the name ends at the last `': ` of the line. virsh translates these
 * messages: its environment must have LC_ALL=C.
 */

export interface VirshEvent {
  /** virsh's own timestamp (UTC, `2026-11-24 13:49:45.246+0000`), present with --timestamp. */
  readonly at: string | undefined;
  /** `lifecycle`, `device-added`, `metadata-change`, ... */
  readonly type: string;
  readonly domain: string;
  /** The text after the name (`net1`, `Started Booted`), undefined for the types that print none. */
  readonly detail: string | undefined;
}

const HEAD = /^(?:(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}): )?event '([a-z0-9-]+)' for domain '/;

/** Types printed as `event 'T' for domain 'NAME'` with nothing after the name. */
const NO_DETAIL = new Set(['reboot', 'control-error', 'pm-wakeup', 'pm-suspend', 'pm-suspend-disk']);
/** Types printed as `... for domain 'NAME' disk ALIAS: ...`. */
const DISK = new Set(['disk-change', 'tray-change']);

export function parseEventLine(line: string): VirshEvent | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const head = HEAD.exec(text);
  if (!head) return undefined;
  const at = head[1];
  const type = head[2] ?? '';
  const rest = text.slice(head[0].length);
  const split = splitName(type, rest);
  if (!split || split.domain === '') return undefined;
  return { at, type, domain: split.domain, detail: split.detail };
}

function splitName(type: string, rest: string): { domain: string; detail: string | undefined } | undefined {
  if (NO_DETAIL.has(type)) return rest.endsWith("'") ? { domain: rest.slice(0, -1), detail: undefined } : undefined;
  const separator = DISK.has(type) ? "' disk " : "': ";
  const at = rest.lastIndexOf(separator);
  if (at >= 0) return { domain: rest.slice(0, at), detail: rest.slice(at + separator.length) };
  // tunable, job-completed, memory-failure...: `'NAME':` and the parameters on the next lines.
  if (rest.endsWith("':")) return { domain: rest.slice(0, -2), detail: '' };
  return undefined;
}

/** A lifecycle detail `Started Booted` → `{ event: 'Started', detail: 'Booted' }`. */
export function lifecycleOf(e: VirshEvent): { event: string; detail: string } | undefined {
  if (e.type !== 'lifecycle' || e.detail === undefined) return undefined;
  const space = e.detail.indexOf(' ');
  return space < 0 ? { event: e.detail, detail: '' } : { event: e.detail.slice(0, space), detail: e.detail.slice(space + 1) };
}

/** A metadata-change detail `type element, uri http://...` → its type and namespace URI. */
export function metadataChangeOf(e: VirshEvent): { kind: string; uri: string | undefined } | undefined {
  if (e.type !== 'metadata-change' || e.detail === undefined) return undefined;
  const m = /^type (\S+), uri (.*)$/.exec(e.detail);
  if (!m) return undefined;
  const uri = m[2] ?? '';
  // virsh prints NULLSTR(nsuri): `<null>` for description and title changes.
  return { kind: m[1] ?? '', uri: uri === '<null>' ? undefined : uri };
}
