/**
 * framing.ts on streams shaped like those virsh 9.0 writes (recorded in the libvirt group's runs):
 * readline's echo first, then the markers with the command's output between them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandErrors, framedLines, takeFrame } from '../../../src/adapters/virsh/framing';

const N = '0123abcd';

test('the lines sent: markers typed with an empty quoted string, so the echo never shows them printed', () => {
  const lines = framedLines("'dominfo' 'x'", N, 7);
  assert.is(lines, `echo NIPM.S.''${N}.7; 'dominfo' 'x'; echo NIPM.E.''${N}.7\necho NIPM.F.''${N}.7; echo --err NIPM.F.''${N}.7\n`);
  assert.not.ok(lines.includes(`NIPM.S.${N}.7`));
  assert.not.ok(lines.includes(`NIPM.F.${N}.7`));
});

test('the output is exactly what lies between the markers, after any echo, without a final line feed', () => {
  const echo = `virsh # \r<scrolled echo of a long line NIPM.S.''${N}.3; 'x'\n`;
  const stdout = `${echo}NIPM.S.${N}.3hello\nno newline at the endNIPM.E.${N}.3virsh # echo NIPM.F.''${N}.3; echo --err NIPM.F.''${N}.3\nNIPM.F.${N}.3virsh # `;
  const stderr = `error: NIPM.F.${N}.3\nerror: later`;
  const frame = takeFrame(stdout, stderr, N, 3);
  assert.ok(frame);
  assert.is(frame.ran, true);
  assert.is(frame.stdout, 'hello\nno newline at the end');
  assert.is(frame.stderr, '');
  assert.is(stdout.slice(frame.stdoutUsed), 'virsh # ');
  assert.is(stderr.slice(frame.stderrUsed), 'error: later');
});

test('no frame until both fences are in', () => {
  const out = `NIPM.S.${N}.1xNIPM.E.${N}.1NIPM.F.${N}.1`;
  assert.is(takeFrame(out, '', N, 1), undefined);
  assert.is(takeFrame(`NIPM.S.${N}.1x`, `error: NIPM.F.${N}.1\n`, N, 1), undefined);
  assert.is(takeFrame(out, `error: NIPM.F.${N}.1`, N, 1), undefined, 'the stderr fence is a whole line');
  assert.is(takeFrame(out, `error: NIPM.F.${N}.1\n`, N, 2), undefined, 'another command');
  assert.is(takeFrame(out, `error: NIPM.F.other.1\n`, N, 1), undefined, 'another process');
});

test('a line virsh could not parse ran nothing: no markers, only the fence and the error', () => {
  const frame = takeFrame(`virsh # echo NIPM.S.''${N}.4; ...\nvirsh # ...\nNIPM.F.${N}.4`, `error: command 'dominfo' doesn't support option --x\nerror: NIPM.F.${N}.4\n`, N, 4);
  assert.ok(frame);
  assert.is(frame.ran, false);
  assert.is(frame.stderr, "error: command 'dominfo' doesn't support option --x\n");
});

test("virsh's connection notices are not the command's failure; anything else is", () => {
  const notices = [
    'error: Disconnected from qemu:///system?socket=/tmp/x/run/libvirt-sock due to end of file',
    'error: Reconnected to the hypervisor',
    "error: Failed to create '/dev/null/libvirt/virsh': Not a directory",
  ];
  assert.is(commandErrors(`${notices.join('\n')}\n`), '');
  assert.is(commandErrors(`${notices[0] ?? ''}\nerror: failed to get domain 'x'\n${notices[1] ?? ''}\n`), "error: failed to get domain 'x'");
  assert.is(commandErrors('error: Failed to reconnect to the hypervisor\n'), 'error: Failed to reconnect to the hypervisor');
  assert.is(commandErrors(''), '');
});

test.run();
