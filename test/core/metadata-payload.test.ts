/** metadataPayload: the nova element for `virsh metadata --set`, unqualified, with the same content. */
import type { Element, Node } from '@xmldom/xmldom';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDomain } from '../../src/core/domain';
import { injectPorts } from '../../src/core/inject';
import { metadataPayload } from '../../src/core/metadata-payload';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { parseXml } from '../../src/core/xml-document';
import { domainXml, fixture } from '../support/builders';

/**
 * The element's content by local names: what libvirt will put back under its own namespace and
 * prefix. Indentation between elements is not content (the payload drops it; libvirt re-indents).
 */
function content(node: Node): unknown[] {
  const out: unknown[] = [];
  let hasElements = false;
  for (let n = node.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) hasElements = true;
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (hasElements && n.nodeType === 3 && (n.nodeValue ?? '').trim() === '') continue;
    if (n.nodeType === 1) {
      const el = n as Element;
      const attrs = Array.from(el.attributes)
        .filter((a) => a.name !== 'xmlns' && a.prefix !== 'xmlns')
        .map((a) => [a.localName, a.value]);
      out.push([el.localName, attrs, content(el)]);
    } else if (n.nodeType === 3 || n.nodeType === 4) out.push(['text', n.nodeValue]);
    else if (n.nodeType === 8) out.push(['comment', n.nodeValue]);
  }
  return out;
}

function assertUnqualified(payload: string): Element {
  const doc = parseXml(payload, 'payload');
  const root = doc.documentElement as Element;
  assert.not.match(payload, 'xmlns');
  const walk = (el: Element): void => {
    assert.is(el.namespaceURI, null, el.nodeName);
    assert.is(el.prefix, null, el.nodeName);
    assert.not.match(el.nodeName, ':');
    for (const a of Array.from(el.attributes)) assert.not.match(a.name, ':');
    for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) walk(n as Element);
  };
  walk(root);
  return root;
}

for (const name of ['wallaby-nova-ports', 'pre-wallaby']) {
  test(`${name}: after inject, the payload parses, is unqualified and has the same content`, () => {
    const domain = parseDomain(fixture(`domains/${name}.xml`), 'd');
    injectPorts(domain, parseNetworkInfo(fixture('network_info/two-ports.json'), 'n'));
    const instance = domain.nova?.element as Element;
    const payload = metadataPayload(instance);
    const root = assertUnqualified(payload);
    assert.is(root.localName, 'instance');
    assert.equal(content(root), content(instance));
    assert.match(payload, /^<instance>\s*<package version="/);
    assert.match(payload, '<ports><port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7"><ip type="fixed" address="192.168.1.1" ipVersion="4"/>');
  });
}

test('default namespace, foreign and prefixed children, comments, CDATA, hostile text', () => {
  const instance = `<instance xmlns="${NOVA_NS.v1_1}" xmlns:acme="urn:acme" acme:flag="on" plain="a&quot;b">
      <name>x &lt;&amp;&gt; ]]&gt; "'</name><!-- keep -->
      <acme:extra acme:k="v"><![CDATA[<raw> & ]]></acme:extra>
      <ports/>
    </instance>`;
  const domain = parseDomain(domainXml({ nova: false, otherMetadata: instance }), 'd');
  const element = domain.nova?.element as Element;
  const root = assertUnqualified(metadataPayload(element));
  assert.equal(content(root), content(element));
  assert.is(root.getAttribute('plain'), 'a"b');
  assert.is(root.getAttribute('flag'), 'on');
});

test('an empty instance element', () => {
  const domain = parseDomain(domainXml({ nova: false, otherMetadata: `<n:instance xmlns:n="${NOVA_NS.v1_0}"/>` }), 'd');
  assert.is(metadataPayload(domain.nova?.element as Element), '<instance/>');
});

test('the payload carries no indentation: virsh reads arguments slowly, libvirt re-indents', () => {
  const domain = parseDomain(fixture('domains/wallaby-nova-ports.xml'), 'wallaby');
  injectPorts(domain, parseNetworkInfo(fixture('network_info/two-ports.json'), 'two-ports'));
  const payload = metadataPayload(domain.nova?.element as Element);
  assert.not.match(payload, /> *\n/);
  assert.match(payload, '<name>db-1</name>');
});

test.run();
