import { InputError, quote } from '../../errors';
import { commands } from '../../cli/commands';
import { ExitCode } from '../../exit-code';
import { bashCompletion } from '../../cli/help';
import type { Io } from '../../io';
import type { Args } from './command';

export function run(args: Args, io: Io): Promise<ExitCode> {
  if (args.shell !== 'bash') throw new InputError('shell', `${quote(args.shell)}: only bash completion is made`);
  io.out(bashCompletion(commands.map((c) => c.spec)));
  return Promise.resolve(ExitCode.ok);
}
