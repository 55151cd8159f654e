import type { AnyCommand } from './command';
import { injectCommand } from '../commands/inject/command';
import { renderCommand } from '../commands/render/command';
import { showCommand } from '../commands/show/command';

/** Every command, in the order help lists them. */
export const commands: readonly AnyCommand[] = [showCommand, renderCommand, injectCommand];
