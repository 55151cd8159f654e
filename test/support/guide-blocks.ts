/**
 * The administrator's guide's fenced blocks, as its tests run them (test/docs/admin-guide.libvirt.test.ts,
 * test/usecases/reconcile/prometheus.libvirt.test.ts): a block's info string says how it is
 * tested; in a `sh` block, `$ ` lines are commands (a trailing `\` continues one) and the lines
 * after a command are its expected output, `<...>` matching any text within a line and a line
 * `...` any number of lines.
 */
import * as assert from 'uvu/assert';

export interface Block {
  readonly info: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

export function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // A block may be indented (inside a list item): its lines lose that indentation.
    const open = /^( *)```(\S.*)?$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== `${indent}\`\`\``; i++) body.push((lines[i] ?? '').slice(indent.length));
    assert.ok(i < lines.length, `guide line ${start + 1}: unclosed code block`);
    blocks.push({ info: (open[2] ?? '').trim(), body: body.join('\n'), line: start + 1 });
  }
  return blocks;
}

export interface Step {
  readonly command: string;
  readonly expected: readonly string[];
  readonly line: number;
}

export function steps(block: Block): Step[] {
  const out: { command: string; expected: string[]; line: number }[] = [];
  const lines = block.body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.startsWith('$ ')) {
      let command = l.slice(2);
      const line = block.line + 1 + i;
      while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)}\n${lines[++i] ?? ''}`;
      out.push({ command, expected: [], line });
    } else {
      const last = out.at(-1);
      assert.ok(last, `guide line ${block.line + 1 + i}: output before any "$ " command`);
      last.expected.push(l);
    }
  }
  assert.ok(out.length > 0, `guide line ${block.line}: a test block without a command`);
  return out;
}

/** The expected output as a regular expression: `<...>` any text in a line, a line `...` any lines. */
export function outputPattern(expected: readonly string[]): RegExp {
  const trimmed = [...expected];
  while (trimmed.length && trimmed.at(-1)?.trim() === '') trimmed.pop();
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = trimmed
    .map((l) => (l === '...' ? '(?:[^\\n]*\\n)*?' : `${escape(l.trimEnd()).replace(/<\\.\\.\\.>/g, '[^\\n]*?')}[ \\t]*\\n`))
    .join('');
  return new RegExp(`^${body}$`);
}

/** How a step ran: its exit status, stdout and stderr merged. */
export interface Ran {
  readonly code: number;
  readonly output: string;
}

/** The step exited 0 and printed what the guide shows; with DOCS_DUMP=1, prints what it printed instead (for writing the guide). */
export function checkStep(step: Step, ran: Ran): void {
  if (process.env.DOCS_DUMP === '1') {
    process.stderr.write(`\n--- line ${step.line}: $ ${step.command} [exit ${ran.code}]\n${ran.output}`);
    return;
  }
  assert.is(ran.code, 0, `guide line ${step.line}: \`${step.command}\` exited ${ran.code}:\n${ran.output}`);
  if (step.expected.some((l) => l.trim() !== '')) {
    // Trailing blanks and blank lines aside (virsh ends some output with an empty line).
    const output = `${ran.output.split('\n').map((l) => l.trimEnd()).join('\n').replace(/\n+$/, '')}\n`;
    assert.ok(outputPattern(step.expected).test(output), `guide line ${step.line}: \`${step.command}\` printed:\n${ran.output}\nwhich the guide does not show:\n${step.expected.join('\n')}`);
  }
}
