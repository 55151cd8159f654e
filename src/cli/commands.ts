/** Every command, in the order help lists them. Declarations only: each command's work loads when it runs. */
import { command as cacheGet } from '../commands/cache-get/command';
import { command as cacheList } from '../commands/cache-list/command';
import { command as cachePut } from '../commands/cache-put/command';
import { command as cacheRm } from '../commands/cache-rm/command';
import { command as cacheSync } from '../commands/cache-sync/command';
import { command as completion } from '../commands/completion/command';
import { command as doctor } from '../commands/doctor/command';
import { command as find } from '../commands/find/command';
import { command as history } from '../commands/history/command';
import { command as hook } from '../commands/hook/command';
import { command as inject } from '../commands/inject/command';
import { command as list } from '../commands/list/command';
import { command as reconcile } from '../commands/reconcile/command';
import { command as render } from '../commands/render/command';
import { command as setup } from '../commands/setup/command';
import { command as show } from '../commands/show/command';
import { command as watch } from '../commands/watch/command';
import type { Command } from './spec';

export const commands: readonly Command[] = [list, find, history, show, reconcile, render, inject, cachePut, cacheGet, cacheList, cacheRm, cacheSync, watch, doctor, completion, setup, hook];
