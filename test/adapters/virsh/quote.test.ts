/**
 * quote.ts without virsh: quoting checked against a model of virsh 9.0's tokenizer
 * (vshCommandStringGetArg; the real virsh round trip is in test/adapters/virsh/session.libvirt.test.ts),
 * and refusal of what cannot be sent.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandLine, MAX_ARG_BYTES, quoteArg } from '../../../src/adapters/virsh/quote';
import { InputError } from '../../../src/errors';

/**
 * virsh's command-line tokenizer, written from libvirt 9.0's tools/vsh.c: blanks and `;` end a
 * token, `;` also ends the command, `'...'` is literal, `\` escapes outside single quotes, `"`
 * toggles double quotes (where `\` still escapes), a token starting with `#` comments out the rest.
 */
function virshCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    if (line[i] === ';') {
      commands.push([]);
      i++;
      continue;
    }
    if (line[i] === '#') break;
    let single = false;
    let double = false;
    let token = '';
    while (i < line.length) {
      const c = line[i] ?? '';
      if (!single && !double && (c === ' ' || c === '\t' || c === ';')) break;
      if (!double && c === "'") {
        single = !single;
        i++;
        continue;
      }
      if (!single && c === '\\') {
        i++;
        if (i >= line.length) throw new Error('dangling \\');
      } else if (!single && c === '"') {
        double = !double;
        i++;
        continue;
      }
      token += line[i] ?? '';
      i++;
    }
    if (single || double) throw new Error('unterminated quote');
    commands.at(-1)?.push(token);
  }
  return commands.filter((c) => c.length > 0);
}

const odd = [
  'two words',
  "it's",
  'say "hi"',
  'semi;colon',
  '#hash',
  'mid#hash',
  'back\\slash',
  'trailing\\',
  '$(touch /tmp/pwned)',
  '`id`',
  'ünïcödé € 名前 🚀',
  '-leading',
  '--double',
  '',
  ' ',
  "'",
  "''",
  '"',
  '\\\'"; echo injected #',
  '\u0085\u2028\u00a0\ufeff',
];

test('odd arguments come back from the tokenizer unchanged, as one command', () => {
  for (const arg of odd) assert.equal(virshCommands(commandLine(['echo', arg])), [['echo', arg]], JSON.stringify(arg));
  assert.equal(virshCommands(commandLine(['metadata', ...odd])), [['metadata', ...odd]]);
});

test('every sendable argument list round-trips through the tokenizer (property)', () => {
  const char = fc.oneof(
    fc.constantFrom(' ', "'", '"', '\\', ';', '#', '$', '`', '-', 'é', '€', '🚀'),
    // eslint-disable-next-line no-control-regex -- control characters are the ones refused
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !/[\u0000-\u001f\u007f]/u.test(c)),
  );
  const arg = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
      assert.equal(virshCommands(commandLine(['echo', ...args])), [['echo', ...args]]);
    }),
    { numRuns: 2000 },
  );
});

test('the quoted form: single quotes, a quote as \'\\\'\'', () => {
  assert.is(quoteArg('plain'), "'plain'");
  assert.is(quoteArg("it's"), "'it'\\''s'");
  assert.is(quoteArg(''), "''");
  assert.is(commandLine(['dumpxml', '--domain', 'a b']), "'dumpxml' '--domain' 'a b'");
});

function refused(arg: string, pattern: RegExp): void {
  try {
    quoteArg(arg);
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, pattern);
    assert.not.match((err as Error).message, /[\n\r]/u, 'the message is one line');
    return;
  }
  assert.unreachable(`${JSON.stringify(arg.slice(0, 40))} was accepted`);
}

test('line breaks, control characters and lone surrogates are refused with a clear one-line error', () => {
  refused('a\nb', /line break/u);
  refused('a\rb', /line break/u);
  refused('<a>\r\n</a>', /line break/u);
  refused('a\tb', /control character U\+0009/u);
  refused('a\u0000b', /control character U\+0000/u);
  refused('\u001b[A', /control character U\+001B/u);
  refused('del\u007f', /control character U\+007F/u);
  refused('half \ud800 pair', /surrogate/u);
  assert.is(quoteArg('pair 🚀'), "'pair 🚀'");
});

test('arguments over 128 KiB (UTF-8 bytes) are refused, 128 KiB exactly is accepted', () => {
  assert.is(MAX_ARG_BYTES, 131072);
  assert.ok(quoteArg('x'.repeat(MAX_ARG_BYTES)).length === MAX_ARG_BYTES + 2);
  refused('x'.repeat(MAX_ARG_BYTES + 1), /131073 bytes/u);
  // 'é' is two bytes: 65537 of them are 131074 bytes though only 65537 UTF-16 units.
  refused('é'.repeat(MAX_ARG_BYTES / 2 + 1), /131074 bytes/u);
});

test('a command with any unsendable argument is refused as a whole; an empty command too', () => {
  assert.throws(() => commandLine(['metadata', '--set', '<a>\n</a>']), (e: unknown) => e instanceof InputError);
  assert.throws(() => commandLine([]), (e: unknown) => e instanceof InputError);
  assert.throws(() => commandLine(['']), (e: unknown) => e instanceof InputError);
});

test.run();
