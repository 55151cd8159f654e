/**
 * A process named libvirtd in this mount namespace (a copy of sleep) whose pid is in a live
 * directory's driver.pid: the XML files of that directory and its persistent one are then
 * provably the daemon's (src/adapters/domain-xml-files.ts, daemonKeepsDirs), so the read
 * commands answer from them alone, with no libvirt to ask.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StandInDaemon {
  readonly pid: number;
  stop(): void;
}

export async function standInDaemon(liveDir: string): Promise<StandInDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-stand-in-'));
  copyFileSync('/bin/sleep', join(dir, 'libvirtd'));
  const child: ChildProcess = spawn(join(dir, 'libvirtd'), ['3600'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  const pid = child.pid as number;
  writeFileSync(join(liveDir, 'driver.pid'), `${pid}\n`);
  return {
    pid,
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
