/**
 * What a command returns. Each code means one thing across every command:
 *   0 ok;
 *   1 the command worked and its answer is "no": nothing matched (find, history, show, cache get,
 *     cache rm), a problem was found (doctor);
 *   2 the command line or the input was wrong (said in one line on stderr);
 *   3 libvirt or the system failed (daemon down, disk full, Neutron unreachable...).
 * Errors carry a kind, never a code: runMain (src/main.ts) maps kinds to 1, 2 and 3.
 *
 * The one exception is `reconcile --check`, a monitoring plugin, whose caller (Nagios, Icinga,
 * NRPE) defines the codes: `PluginStatus`.
 */
export const ExitCode = {
  ok: 0,
  negative: 1,
  badInput: 2,
  failure: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Monitoring Plugins guidelines: OK, WARNING, CRITICAL, UNKNOWN. */
export const PluginStatus = {
  ok: 0,
  warning: 1,
  critical: 2,
  unknown: 3,
} as const;
export type PluginStatus = (typeof PluginStatus)[keyof typeof PluginStatus];
