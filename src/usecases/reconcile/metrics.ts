/**
 * node_exporter textfile metrics for a reconcile run (Prometheus text format 0.0.4). One
 * `nova_ipmeta_instance_ip_info` series per address, labelled the way monitoring already joins
 * (instance_id, project_id), so a dashboard can show instance IPs without any API.
 */
import { OUTCOME_KINDS, type Outcome } from './outcome';

export interface RunSummary {
  readonly outcomes: readonly Outcome[];
  readonly durationSeconds: number;
  /** Unix seconds when the run ended. */
  readonly finishedAt: number;
  /** The last success before this run, carried over when this one failed. */
  readonly previousSuccess: number | undefined;
  /** Cache files whose instance is not on this host. */
  readonly orphanCaches?: number;
}

export function runSucceeded(outcomes: readonly Outcome[]): boolean {
  return outcomes.every((o) => o.kind !== 'error');
}

export function formatMetrics(run: RunSummary): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: readonly string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
  };
  metric(
    'nova_ipmeta_reconcile_domains',
    'Domains by outcome of the last reconcile run.',
    OUTCOME_KINDS.map((k) => `nova_ipmeta_reconcile_domains{outcome="${k}"} ${run.outcomes.filter((o) => o.kind === k).length}`),
  );
  metric('nova_ipmeta_reconcile_duration_seconds', 'Duration of the last reconcile run.', [
    `nova_ipmeta_reconcile_duration_seconds ${run.durationSeconds.toFixed(3)}`,
  ]);
  metric('nova_ipmeta_reconcile_last_run_timestamp_seconds', 'When the last reconcile run ended.', [
    `nova_ipmeta_reconcile_last_run_timestamp_seconds ${run.finishedAt}`,
  ]);
  if (run.orphanCaches !== undefined) {
    metric('nova_ipmeta_cache_orphans', 'Cache files of the last run whose instance is not a domain on this host.', [
      `nova_ipmeta_cache_orphans ${run.orphanCaches}`,
    ]);
  }
  const success = runSucceeded(run.outcomes) ? run.finishedAt : run.previousSuccess;
  if (success !== undefined) {
    metric('nova_ipmeta_reconcile_last_success_timestamp_seconds', 'When a reconcile run last ended without any domain in error.', [
      `nova_ipmeta_reconcile_last_success_timestamp_seconds ${success}`,
    ]);
  }
  const series: string[] = [];
  for (const o of run.outcomes) {
    if (!('ports' in o)) continue;
    for (const port of o.ports) {
      for (const ip of port.ips) {
        const labels = {
          domain: o.domain,
          instance_id: o.uuid,
          project_id: o.projectId ?? '',
          port_id: port.id,
          address: ip.address,
          type: ip.type,
          ip_version: String(ip.version),
        };
        series.push(`nova_ipmeta_instance_ip_info{${formatLabels(labels)}} 1`);
      }
    }
  }
  metric('nova_ipmeta_instance_ip_info', 'An address of an instance port, as written in its domain XML.', series);
  return `${lines.join('\n')}\n`;
}

/** The last success timestamp of an earlier metrics file, so a failed run does not erase it. */
export function previousSuccess(text: string): number | undefined {
  const m = /^nova_ipmeta_reconcile_last_success_timestamp_seconds (\d+(?:\.\d+)?)$/m.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}
