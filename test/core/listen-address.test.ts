import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatListenAddress, parseListenAddress } from '../../src/core/listen-address';

test('an IP literal and a port; IPv6 in brackets, in canonical form', () => {
  assert.equal(parseListenAddress('127.0.0.1:9949'), { host: '127.0.0.1', port: 9949 });
  assert.equal(parseListenAddress('[::1]:9949'), { host: '::1', port: 9949 });
  assert.equal(parseListenAddress('[FD00:0:0::0001]:1'), { host: 'fd00::1', port: 1 });
  assert.is(formatListenAddress({ host: 'fd00::1', port: 1 }), '[fd00::1]:1');
});

test('no host, a host name, a bare IPv6, a bad port: refused, saying what is expected', () => {
  for (const bad of [':9949', '9949', 'localhost:9949', '::1:9949', '[127.0.0.1]:9949', '127.0.0.1', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:99999', ' 127.0.0.1:9949', '0177.0.0.1:80']) {
    assert.type(parseListenAddress(bad), 'string', bad);
  }
  assert.is(parseListenAddress('localhost:9949'), '"localhost:9949" is not ADDRESS:PORT with an IP address (e.g. 127.0.0.1:9949, [::1]:9949)');
});

test.run();
