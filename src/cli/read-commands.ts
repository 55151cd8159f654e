/**
 * The operator's read commands: what an address, a port or an instance has on this host, from
 * libvirt's files and the address history, never written. The bundle runs them in a program of
 * their own (src/read-bin.ts; scripts/build.mjs names their words for the head, and a test holds
 * the two lists to each other). The whole CLI takes them from here (./commands).
 */
import { command as find } from '../commands/find/command';
import { command as history } from '../commands/history/command';
import { command as list } from '../commands/list/command';
import { command as show } from '../commands/show/command';
import type { Command } from './spec';

export const readCommands: readonly Command[] = [list, find, history, show];
