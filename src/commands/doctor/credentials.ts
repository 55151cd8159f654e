/**
 * Which Neutron credentials `cache sync` (and the timer) would use, without asking Keystone: the
 * source, and who it authenticates as. Never a secret.
 */
import { isExpectedFailure, messageOf } from '../../errors';
import type { Settings } from '../../adapters/settings';
import type { OpenStackConfig } from '../../adapters/openstack/credentials';
import { credentialSource } from '../../usecases/sync/sync-cache';
import { fail, ok, warn, type CheckResult } from './checks';

export function checkCredentials(settings: Settings): CheckResult {
  let label = 'credentials';
  try {
    const source = credentialSource(settings, {});
    if (!source) {
      return warn('credentials', 'no Neutron credentials found: cache sync cannot run, and the timer only reconciles the cache as it is', "point [cache_sync] nova_config at nova-compute's config, or add a [neutron] section");
    }
    label = source.label;
    return ok('credentials', `${label}: ${who(source.config())}`);
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    return fail('credentials', `${label}: ${messageOf(err)}`, 'fix those settings: cache sync fails until then');
  }
}

function who(c: OpenStackConfig): string {
  const a = c.auth;
  const endpoint = c.endpoint === undefined ? `${c.interfaces.join(', ')} endpoint from the catalog` : `endpoint ${c.endpoint}`;
  if (a.type === 'none') return `no authentication, ${endpoint}`;
  const user = a.type === 'password' ? `user ${a.userId ?? a.username ?? '?'}` : `application credential ${a.id ?? a.name ?? '?'}`;
  return `${user} at ${a.authUrl}, ${endpoint}`;
}
