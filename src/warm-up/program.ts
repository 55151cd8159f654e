/**
 * What `node nova-ipmeta.cjs --write-code-cache` runs in the whole program (scripts/bundle-loader.cjs)
 * before it saves V8's code cache: the work of the starts an operator or libvirt waits on, on the
 * sample of ./sample: the hook engine's work on libvirt's plain XML (its lean reading and
 * comparison reconcile's in-sync decision shares) and on XML the DOM reads (the parse, change and
 * serialization reconcile's repairs share), and `find` over a directory holding
 * that domain, so the cache holds the bytecode those starts need (docs/design.md, "Cost"). Prints
 * nothing; leaves nothing behind.
 */
import { commands } from '../cli/commands';
import { ExitCode } from '../exit-code';
import { warmUpFind } from './find';
import { DOMAIN_FOR_THE_DOM, warmUpHook } from './hook';
import { withSample } from './sample';

export function warmUp(): Promise<ExitCode> {
  return withSample(async (sample) => {
    await warmUpHook(sample);
    await warmUpHook(sample, DOMAIN_FOR_THE_DOM);
    await warmUpFind(sample, commands);
    return ExitCode.ok;
  });
}
