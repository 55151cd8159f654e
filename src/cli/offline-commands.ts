/**
 * The commands that read files and print XML, touching neither libvirt nor the host's state: the
 * bundle runs them in a program of their own (src/offline-bin.ts; scripts/build.mjs names their
 * words for the head, and a test holds the two lists to each other). The whole CLI takes them from
 * here (./commands).
 */
import { command as inject } from '../commands/inject/command';
import { command as render } from '../commands/render/command';
import type { Command } from './spec';

export const offlineCommands: readonly Command[] = [render, inject];
