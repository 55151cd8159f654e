/**
 * The oslo.config INI dialect (src/core/ini.ts), case by case as oslo_config/iniparser.py reads
 * them; the libvirt group compares it with the real oslo.config on generated files
 * (test/usecases/sync/nova-config.libvirt.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeIni, optionValue, parseIni, type Ini } from '../../src/core/ini';
import { InputError } from '../../src/errors';

const t = suite('oslo.config INI');

const plain = (ini: Ini) => Object.fromEntries([...ini].map(([s, keys]) => [s, Object.fromEntries(keys)]));

t('kolla-ansible style: quoted values, `:` and `=`, whichever comes first', () => {
  const ini = parseIni(
    [
      '[DEFAULT]',
      'state_dir = "/srv/state"',
      '[libvirt]',
      "connection_uri = 'qemu+tcp://10.0.0.11/system'",
      '[neutron]',
      'auth_url: http://10.0.0.10:5000',
      'password = a:b=c',
      'username: x=y',
      'cafile = ',
      'quoted_empty = ""',
      'mismatched = "abc\'',
      'inner = a "b" c',
      'one_quote = "',
    ].join('\n'),
    'nova.conf',
  );
  assert.equal(plain(ini), {
    DEFAULT: { state_dir: '/srv/state' },
    libvirt: { connection_uri: 'qemu+tcp://10.0.0.11/system' },
    neutron: {
      auth_url: 'http://10.0.0.10:5000',
      password: 'a:b=c',
      username: 'x=y',
      cafile: '',
      quoted_empty: '',
      mismatched: '"abc\'',
      inner: 'a "b" c',
      one_quote: '',
    },
  });
});

t('comments only at the start of a line; a value may hold # and ;', () => {
  const ini = parseIni('# top\n; also\n[neutron]\n#password = commented\npassword = s3cr#t ; not a comment\n', 'f');
  assert.equal(plain(ini), { neutron: { password: 's3cr#t ; not a comment' } });
});

t('continuation lines join with a line break; a blank line ends the value', () => {
  const ini = parseIni('[a]\nk = first\n  second\n\tthird\n\n[b]\nk2 =\n  only\n', 'f');
  assert.equal(plain(ini), { a: { k: 'first\nsecond\nthird' }, b: { k2: '\nonly' } });
});

t('the last assignment wins; sections merge; names are case-insensitive except DEFAULT', () => {
  const ini = parseIni('[Neutron]\nregion_name = R1\n[neutron]\nregion_name = R2\nRegion_Name = other\n[default]\nx = 1\n[DEFAULT]\ny = 2\n', 'f');
  assert.equal(plain(ini), { neutron: { region_name: 'R2', Region_Name: 'other' }, default: { x: '1' }, DEFAULT: { y: '2' } });
});

t('CRLF and a lone CR end lines; trailing blanks are dropped', () => {
  assert.equal(plain(parseIni('[a]\r\nk = v  \r\nl = w\rm = x\t\n', 'f')), { a: { k: 'v', l: 'w', m: 'x' } });
});

t('mergeIni: later files win key by key, as a --config-dir after --config-file', () => {
  const base = parseIni('[neutron]\nusername = nova\npassword = old\n[DEFAULT]\nhost = h1\n', 'nova.conf');
  const override = parseIni('[neutron]\npassword = new\n', 'nova.conf.d/50-neutron.conf');
  assert.equal(plain(mergeIni([base, override])), { neutron: { username: 'nova', password: 'new' }, DEFAULT: { host: 'h1' } });
  assert.equal(plain(mergeIni([override, base])), { neutron: { password: 'old', username: 'nova' }, DEFAULT: { host: 'h1' } });
});

t('errors name the file and line, never the line itself (it may hold a password)', () => {
  const cases: [string, RegExp][] = [
    ['[neutron]\npassword hunter2\n', /^f:2: expected "key = value"/],
    ['password = hunter2\n', /^f:1: a key before any \[section\]/],
    ['[neutron]\n= hunter2\n', /^f:2: an empty key/],
    ['  hunter2\n', /^f:1: an indented line continues no value/],
    ['[neutron]\n# c\n  hunter2\n', /^f:3: an indented line/],
    ['[neutron\n', /^f:1: a section header must end/],
    ['[]\n', /^f:1: an empty section name/],
  ];
  for (const [text, message] of cases) {
    try {
      parseIni(text, 'f');
      assert.unreachable(text);
    } catch (err) {
      assert.instance(err, InputError, text);
      assert.match((err as Error).message, message, text);
      assert.not.match((err as Error).message, /hunter2/);
    }
  }
});

t("optionValue: oslo.config's $ substitution, as nova gets its values", () => {
  const ini = parseIni(
    [
      '[DEFAULT]',
      'my_ip = 10.0.0.5',
      'region = RegionOne',
      'base = http://$my_ip',
      '[neutron]',
      'auth_url = $base:5000/v3',
      'braced = ${my_ip}x',
      'password = s3cr$$t\\$x',
      'region = neutron-own',
      'own = $region',
      'grouped = ${keystone.port}',
      'kept = $ and $1 and ${ and $-',
      'plain = no dollar',
      '[keystone]',
      'port = 5000',
    ].join('\n'),
    'nova.conf',
  );
  const v = (key: string, section = 'neutron') => optionValue(ini, section, key, 'nova.conf');
  assert.is(v('auth_url'), 'http://10.0.0.5:5000/v3', 'references resolve in turn, in their own section');
  assert.is(v('braced'), '10.0.0.5x');
  assert.is(v('password'), 's3cr$t$x', '$$ and \\$ are a $');
  assert.is(v('own'), 'neutron-own', 'the same section first');
  assert.is(v('grouped'), '5000');
  assert.is(v('kept'), '$ and $1 and ${ and $-', 'a $ that starts no name stays');
  assert.is(v('plain'), 'no dollar');
  assert.is(v('missing'), undefined);
});

t('optionValue: a name the files do not set, or a loop, is an error naming the option; a secret option hides its reference', () => {
  const ini = parseIni('[neutron]\nauth_url = http://$host_ip:5000\npassword = hunter$x2\nusername = $a\na = $b\nb = $a\ncased = $MY_IP\ndotted = $DEFAULT.my_ip\n[DEFAULT]\nmy_ip = 10.0.0.5\n', 'nova.conf');
  const fails = (key: string, message: RegExp) => {
    try {
      optionValue(ini, 'neutron', key, 'nova.conf');
      assert.unreachable(key);
    } catch (err) {
      assert.instance(err, InputError, key);
      assert.match((err as Error).message, message, key);
      assert.not.match((err as Error).message, /hunter/);
    }
  };
  fails('auth_url', /^nova\.conf: \[neutron\] auth_url: \$host_ip names an option the config files do not set/);
  fails('password', /^nova\.conf: \[neutron\] password: a \$ reference names an option the config files do not set/);
  fails('username', /^nova\.conf: \[neutron\] username: its \$ references loop back to \[neutron\] a$/);
  fails('cased', /\$MY_IP names an option/);
  fails('dotted', /\$DEFAULT\.my_ip names an option/);
});

t.run();
