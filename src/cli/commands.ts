/**
 * Every command, in the order help lists them. Declarations only: each command's work loads when it
 * runs. The groups the bundle runs in programs of their own are listed once, in their modules.
 */
import { command as cacheGet } from '../commands/cache-get/command';
import { command as cacheList } from '../commands/cache-list/command';
import { command as cachePut } from '../commands/cache-put/command';
import { command as cacheRm } from '../commands/cache-rm/command';
import { command as cacheSync } from '../commands/cache-sync/command';
import { command as completion } from '../commands/completion/command';
import { command as doctor } from '../commands/doctor/command';
import { command as hook } from '../commands/hook/command';
import { command as reconcile } from '../commands/reconcile/command';
import { command as setup } from '../commands/setup/command';
import { command as watch } from '../commands/watch/command';
import { offlineCommands } from './offline-commands';
import { readCommands } from './read-commands';
import type { Command } from './spec';

export const commands: readonly Command[] = [...readCommands, reconcile, ...offlineCommands, cachePut, cacheGet, cacheList, cacheRm, cacheSync, watch, doctor, completion, setup, hook];
