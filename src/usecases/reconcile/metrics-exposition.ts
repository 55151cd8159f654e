/**
 * The last run's record (./metrics.ts) in the Prometheus text format, with prom-client: apart,
 * so that a run which prints no metrics does not load it.
 */
import { Gauge, Registry } from 'prom-client';
import { OUTCOME_KINDS } from './outcome';
import { SYNC_RESULTS, type RunRecord } from './metrics';

/** The record's series in a registry of their own (never prom-client's global one). */
export function registryOf(record: RunRecord): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, value: number | undefined) => {
    if (value === undefined) return;
    new Gauge({ name, help, registers: [registry] }).set(value);
  };
  if (record.outcomes) {
    const domains = new Gauge({ name: 'nova_ipmeta_reconcile_domains', help: 'Domains by outcome of the last reconcile run.', labelNames: ['outcome'], registers: [registry] });
    for (const k of OUTCOME_KINDS) domains.set({ outcome: k }, record.outcomes[k]);
  }
  gauge('nova_ipmeta_reconcile_domains_drifted_again', 'Domains the last reconcile run found drifted that the run before had found drifted too: a repair that did not last.', record.driftedAgain);
  gauge('nova_ipmeta_reconcile_duration_seconds', 'Duration of the last reconcile run.', record.durationSeconds);
  gauge('nova_ipmeta_reconcile_last_run_timestamp_seconds', 'When the last reconcile run ended, successful or not.', record.finishedAt);
  gauge('nova_ipmeta_reconcile_success', 'Whether the last reconcile run reached every domain and left none in error (1) or not (0).', record.reconcile.success ? 1 : 0);
  gauge('nova_ipmeta_reconcile_last_success_timestamp_seconds', 'When a reconcile run last ended successfully.', record.reconcile.lastSuccess);
  gauge('nova_ipmeta_cache_orphans', 'Cache files of the last run whose instance is not a domain on this host.', record.orphanCaches);
  gauge('nova_ipmeta_cache_age_seconds', 'How old the cache was at the end of the last run: since the last successful cache sync, or, without one, since the oldest cache file of an instance on this host was written.', record.cacheAgeSeconds);
  if (record.sync) {
    gauge('nova_ipmeta_sync_success', 'Whether the last cache sync (of the last reconcile run that made one) succeeded for every instance (1) or not (0).', record.sync.success ? 1 : 0);
    gauge('nova_ipmeta_sync_last_success_timestamp_seconds', 'When a cache sync last ended successfully.', record.sync.lastSuccess);
    if (record.sync.instances) {
      const instances = new Gauge({ name: 'nova_ipmeta_sync_instances', help: 'Instances of the last cache sync by result.', labelNames: ['result'], registers: [registry] });
      for (const result of SYNC_RESULTS) instances.set({ result }, record.sync.instances[result]);
    }
  }
  if (record.addresses) {
    const info = new Gauge({
      name: 'nova_ipmeta_instance_ip_info',
      help: 'An address of an instance port, as written in its domain XML.',
      labelNames: ['domain', 'instance_id', 'project_id', 'port_id', 'address', 'type', 'ip_version'],
      registers: [registry],
    });
    for (const labels of record.addresses) info.set({ ...labels }, 1);
  }
  return registry;
}

/** The record in the Prometheus text format. */
export function formatMetrics(record: RunRecord): Promise<string> {
  return registryOf(record).metrics();
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Several registries (the last run's, the watcher's own) as one exposition. */
export function formatRegistries(registries: readonly Registry[]): Promise<string> {
  return Registry.merge([...registries]).metrics();
}

