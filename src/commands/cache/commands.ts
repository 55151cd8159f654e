/**
 * The `cache` group: declarations only; each command's work loads on use (./put.ts, ./get.ts...).
 */
import { defineCommand } from '../../cli/command';
import type { CachePutArgs } from './put';
import type { CacheGetArgs } from './get';
import type { CacheListArgs } from './list';
import type { CacheRmArgs } from './rm';
import type { CacheSyncArgs } from './sync';

export const cachePutCommand = defineCommand<CachePutArgs>({
  name: 'cache put',
  describe: "store an instance's network_info (validated; replaced atomically)",
  positionals: [
    { name: 'uuid', describe: 'instance UUID (the domain UUID)', required: true },
    { name: 'file', describe: 'network_info JSON, - for stdin', default: '-' },
  ],
  run: async (args, io) => (await import('./put')).run(args, io),
});

export const cacheGetCommand = defineCommand<CacheGetArgs>({
  name: 'cache get',
  describe: "print an instance's stored network_info, as it was put",
  positionals: [{ name: 'uuid', describe: 'instance UUID', required: true }],
  run: async (args, io) => (await import('./get')).run(args, io),
});

export const cacheListCommand = defineCommand<CacheListArgs>({
  name: 'cache list',
  describe: 'every stored network_info: ports, addresses, age; invalid files with their error',
  run: async (args, io) => (await import('./list')).run(args, io),
});

export const cacheRmCommand = defineCommand<CacheRmArgs>({
  name: 'cache rm',
  describe: "remove an instance's stored network_info (its ports are then left as they are)",
  positionals: [{ name: 'uuid', describe: 'instance UUID', required: true }],
  options: { force: { type: 'boolean', default: false, describe: 'no error when there is nothing to remove' } },
  run: async (args, io) => (await import('./rm')).run(args, io),
});

/** Credentials come from clouds.yaml, OS_* or the config file; no option takes a secret. */
export const OPENSTACK_OPTIONS = {
  'os-cloud': { type: 'string', describe: 'the cloud of clouds.yaml to use (env OS_CLOUD)' },
  'os-cacert': { type: 'string', describe: 'CA bundle to verify Keystone and Neutron with (env OS_CACERT)' },
} as const;

export const cacheSyncCommand = defineCommand<CacheSyncArgs>({
  name: 'cache sync',
  describe: "fetch every instance's ports and IPs from Neutron; write the files that changed",
  options: OPENSTACK_OPTIONS,
  run: async (args, io) => (await import('./sync')).run(args, io),
});

/** The `cache` group, in the order help lists them. */
export const cacheCommands = [cachePutCommand, cacheGetCommand, cacheListCommand, cacheRmCommand, cacheSyncCommand];
