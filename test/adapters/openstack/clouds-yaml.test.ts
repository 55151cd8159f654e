/**
 * clouds-yaml.ts's quoted scalars and errors: YAML 1.2's double-quoted escapes decoded as PyYAML
 * (openstacksdk's reader) decodes them, and no error ever showing a value, which may be a password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYamlSubset, readCloud, type YamlMap } from '../../../src/adapters/openstack/clouds-yaml';
import { InputError } from '../../../src/errors';

const t = suite('clouds.yaml subset');
const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-clouds-'));

t.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A clouds.yaml whose clouds.mycloud.auth.password is written as `raw`, on line 4. */
const withPassword = (raw: string) => `clouds:\n  mycloud:\n    auth:\n      password: ${raw}\n      username: nova\n`;

function passwordOf(raw: string): unknown {
  const doc = parseYamlSubset(withPassword(raw), 'clouds.yaml');
  return (((doc.clouds as YamlMap).mycloud as YamlMap).auth as YamlMap).password;
}

/** The InputError `f` throws, checked to name `where` and never to contain `secret`. */
function inputError(f: () => unknown, where: RegExp, secret: string): InputError {
  try {
    f();
  } catch (err) {
    assert.instance(err, InputError, String(err));
    const e = err as InputError;
    assert.match(e.message, where);
    assert.not.ok(e.message.includes(secret), `the secret is in ${JSON.stringify(e.message)}`);
    return e;
  }
  throw new assert.Assertion({ message: 'expected an InputError', operator: 'throws', expects: 'InputError', actual: 'no error', generated: false });
}

t('double-quoted: every YAML 1.2 escape, JSON has only some of them', () => {
  const cases: [string, string][] = [
    ['"S3cr\\x65t"', 'S3cret'],
    ['"\\x41\\xe9"', 'A\u00e9'],
    ['"a\\0b"', 'a\u0000b'],
    ['"\\a\\b\\t\\n\\v\\f\\r\\e"', '\u0007\b\t\n\u000b\f\r\u001b'],
    ['"a\\\tb"', 'a\tb'],
    ['"a\\ b"', 'a b'],
    ['"a\\_b"', 'a\u00a0b'],
    ['"\\N\\L\\P"', '\u0085\u2028\u2029'],
    ['"\\"\\/\\\\"', '"/\\'],
    ['"\\u00e9\\u20AC"', '\u00e9\u20ac'],
    ['"\\uD83D\\uDE00"', '\u{1F600}'],
    ['"\\U0001F600"', '\u{1F600}'],
    ['"tab\tinside"', 'tab\tinside'],
    ['"a\\" # not a comment"', 'a" # not a comment'],
    ['""', ''],
  ];
  for (const [raw, want] of cases) assert.is(passwordOf(raw), want, raw);
});

t("single-quoted: '' is a quote, a backslash is itself", () => {
  assert.is(passwordOf("'it''s'"), "it's");
  assert.is(passwordOf("'a\\x41'"), 'a\\x41');
  assert.is(passwordOf("''''"), "'");
  assert.is(passwordOf("'tab\tinside'"), 'tab\tinside');
});

t('flow lists: a comma inside quotes does not split', () => {
  const doc = parseYamlSubset(`regions: ["a,b", 'c, d', e\\x41, "\\x41",]\n`, 'c.yaml');
  assert.equal(doc.regions, ['a,b', 'c, d', 'e\\x41', 'A']);
  inputError(() => parseYamlSubset('regions: [a, , S3cret]\n', 'c.yaml'), /^c\.yaml:1: regions: an empty item/, 'S3cret');
});

t('a malformed quoted value is an InputError naming file:line and the key, never the value', () => {
  const where = /^clouds\.yaml:4: clouds\.mycloud\.auth\.password: /;
  for (const raw of [
    '"S3cret\\q"',
    '"S3cret\\x6"',
    '"S3cret\\xZZ"',
    '"S3cret\\u12"',
    '"S3cret\\U0011FFFF"',
    '"S3cret\\uD83D"',
    '"S3cret\\uDE00\\uD83D"',
    '"S3cret\\U0000D800"',
    '"S3cret',
    '"S3cret\\"',
    '"S3cr"et"',
    '"S3cret"x',
    "'S3cret",
    "'S3cr'et'",
  ])
    inputError(() => passwordOf(raw), where, 'S3cr');
  inputError(() => parseYamlSubset('"S3cret\\q": x\n', 'c.yaml'), /^c\.yaml:1: a key: /, 'S3cr');
  inputError(() => parseYamlSubset('x: "S3cret\u0001"\n', 'c.yaml'), /^c\.yaml:1: a control character/, 'S3cr');
});

t('an unsupported value names the key, not the value', () => {
  for (const raw of ['*TopS3cret', '&TopS3cret x', '!TopS3cret', '|TopS3cret', '>TopS3cret', '{TopS3cret}', '@TopS3cret', '%TopS3cret', '[TopS3cret'])
    inputError(() => passwordOf(raw), /^clouds\.yaml:4: clouds\.mycloud\.auth\.password: unsupported YAML value/, 'TopS3cret');
  const e = inputError(() => parseYamlSubset('regions:\n  - *TopS3cret\n', 'c.yaml'), /^c\.yaml:2: regions\[0\]: unsupported/, 'TopS3cret');
  assert.is(e.where, 'c.yaml:2');
});

t('clouds.json: a syntax error gives at most its line and column, never the text around it', () => {
  const file = join(tmp, 'clouds.json');
  const files = { clouds: [file], secure: [] };
  // V8 quotes the input around an unexpected token (Node 20: without a position, Node 18: with one)
  writeFileSync(file, '{"clouds": {"m": {"auth": {\n  "password": TopS3cret-x}}}}');
  const e = inputError(() => readCloud('m', files), /clouds\.json(:2)?: not valid JSON( \(column 15\))?$/, 'TopS3cret');
  assert.ok(e.where === file || e.where === `${file}:2`, e.where);
  // and gives the position of others, kept as a line and a column
  writeFileSync(file, '{"clouds": {"m": {"auth": {\n  "password": "TopS3cret" "x"}}}}');
  assert.is(inputError(() => readCloud('m', files), /clouds\.json:2: not valid JSON \(column 27\)$/, 'TopS3cret').where, `${file}:2`);
});

t.run();
