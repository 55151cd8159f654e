import type { AnyCommand } from './command';
import { cacheCommands } from '../commands/cache/commands';
import { doctorCommand } from '../commands/doctor/command';
import { findCommand } from '../commands/find/command';
import { injectCommand } from '../commands/inject/command';
import { listCommand } from '../commands/list/command';
import { reconcileCommand } from '../commands/reconcile/command';
import { renderCommand } from '../commands/render/command';
import { showCommand } from '../commands/show/command';
import { watchCommand } from '../commands/watch/command';

/** Every command, in the order help lists them. */
export const commands: readonly AnyCommand[] = [listCommand, findCommand, showCommand, reconcileCommand, renderCommand, injectCommand, ...cacheCommands, watchCommand, doctorCommand];
