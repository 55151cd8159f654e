/**
 * metadataPayload: nova's element as the one line `virsh metadata --set` gets. Judged by what
 * libvirt will hold: the line parsed, every element without a namespace put in nova's (what
 * libvirt does, docs/design.md "virsh metadata"; the real daemon's word is in
 * test/usecases/reconcile/reconcile.libvirt.test.ts), compared node for node with the element.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argProblem } from '../../src/adapters/virsh/quote';
import { parseDomain } from '../../src/core/domain';
import { injectPorts } from '../../src/core/inject';
import { metadataPayload } from '../../src/core/metadata-payload';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { InputError } from '../../src/errors';
import { domainXml, fixture } from '../support/builders';
import { elementMeaning } from '../support/canonical-dom';

const N = NOVA_NS.v1_1;

/** The nova element of a domain whose metadata holds `instance` (the element's own XML). */
function novaElement(instance: string): Element {
  const domain = parseDomain(domainXml({ nova: false, otherMetadata: instance }), 'd');
  const el = domain.nova?.element;
  if (!el) throw new Error('no nova element');
  return el;
}

/** What libvirt holds after `--set payload`: the payload's elements without a namespace in nova's. */
function held(payload: string, uri: string): string[] {
  return elementMeaning(new DOMParser().parseFromString(payload, 'text/xml').documentElement as Element, uri);
}

/** The payload, checked: one sendable line, and libvirt will hold exactly the element. */
function carried(el: Element): string {
  const payload = metadataPayload(el, 'instance-0000002b (live)');
  assert.is(argProblem(payload), undefined, 'virsh can be sent it');
  assert.equal(held(payload, el.namespaceURI ?? ''), elementMeaning(el));
  return payload;
}

function refused(el: Element, why: RegExp): void {
  assert.throws(
    () => metadataPayload(el, 'instance-0000002b (live)'),
    (e: unknown) => e instanceof InputError && /^instance-0000002b \(live\): nova's element cannot be written through virsh metadata unchanged: /.test(e.message) && why.test(e.message),
  );
}

for (const name of ['wallaby-nova-ports', 'pre-wallaby']) {
  test(`${name}: after inject, nova's elements go unqualified, compact, on one line, and come back the same`, () => {
    const domain = parseDomain(fixture(`domains/${name}.xml`), 'd');
    injectPorts(domain, parseNetworkInfo(fixture('network_info/two-ports.json'), 'n'));
    const payload = carried(domain.nova?.element as Element);
    assert.not.match(payload, /xmlns|nova:/);
    assert.match(payload, /^<instance><package version="/);
    assert.match(payload, '<ports><port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7"><ip type="fixed" address="192.168.1.1" ipVersion="4"/>');
  });
}

test('an empty instance element', () => {
  assert.is(carried(novaElement(`<n:instance xmlns:n="${NOVA_NS.v1_0}"/>`)), '<instance/>');
});

test('a foreign element keeps its namespace (prefixed or default), its attributes theirs, even inside nova elements', () => {
  const payload = carried(
    novaElement(`<nova:instance xmlns:nova="${N}" xmlns:x="urn:x">
      <nova:name>db-1</nova:name>
      <x:ports><x:port id="1"/></x:ports>
      <ports xmlns="urn:d"><port/><nova:ip type="fixed"/></ports>
      <nova:owner><x:note x:k="v" plain="p"/></nova:owner>
      <nova:ports/>
    </nova:instance>`),
  );
  assert.match(payload, '<x:ports xmlns:x="urn:x"><x:port id="1"/></x:ports>');
  assert.match(payload, '<ports xmlns="urn:d"><port/><ip xmlns="" type="fixed"/></ports>');
});

test('prefixed attributes stay in their namespace: foreign ones, nova\'s own, xml:lang; the prefix nova is never declared', () => {
  const payload = carried(
    novaElement(`<nova:instance xmlns:nova="${N}" xmlns:a="urn:a" a:flag="on" nova:n="1" flag="plain" xml:lang="en">
      <nova:name nova:n="2" a:flag="off">db-1</nova:name>
      <y:z xmlns:y="urn:y" xmlns:nova="urn:not-nova" nova:k="v"><nova:w/></y:z>
    </nova:instance>`),
  );
  assert.not.match(payload, 'xmlns:nova');
  assert.match(payload, /^<instance xmlns:a="urn:a" xmlns:ns1="http:\/\/openstack.org\/xmlns\/libvirt\/nova\/1.1" a:flag="on" ns1:n="1" flag="plain" xml:lang="en">/);
});

test('comments, processing instructions and CDATA sections are carried as they are', () => {
  const payload = carried(novaElement(`<nova:instance xmlns:nova="${N}"><!-- keep me --><?app some data?><nova:name><![CDATA[<raw> & "q"]]></nova:name><nova:x>a<![CDATA[b]]>c<!--d--></nova:x></nova:instance>`));
  assert.match(payload, '<!-- keep me --><?app some data?><name><![CDATA[<raw> & "q"]]></name>');
});

test('TAB, line breaks, DEL and C1 in text and attribute values travel as character references, and come back', () => {
  const el = novaElement(`<nova:instance xmlns:nova="${N}"><nova:owner><nova:user uuid="u&#9;v">bob&#9;smith</nova:user></nova:owner><nova:name a="x&#10;y&#13;z">one&#10;two&#13;three\u007f\u0085\u009b é ]]&gt; &lt;&amp;</nova:name></nova:instance>`);
  const payload = carried(el);
  // eslint-disable-next-line no-control-regex -- exactly what must not reach readline
  assert.not.match(payload, /[\u0000-\u001f\u007f-\u009f]/u);
  assert.match(payload, '<user uuid="u&#9;v">bob&#9;smith</user>');
  assert.match(payload, '<name a="x&#10;y&#13;z">one&#10;two&#13;three&#127;&#133;&#155; é ]]&gt; &lt;&amp;</name>');
});

test('refused, naming why: an element in no namespace (libvirt would put it in nova\'s)', () => {
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><nova:name>a</nova:name><plain/></nova:instance>`), /<plain> has no namespace, and libvirt would put it in nova's/);
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><x:a xmlns:x="urn:x"><b xmlns=""/></x:a></nova:instance>`), /<b> has no namespace/);
});

test('refused, naming why: what readline would take as a key, where XML has no escape', () => {
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><!-- two\nlines --></nova:instance>`), /a comment in <nova:instance> holds U\+000A, which virsh cannot be sent/);
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><?app a\tb?></nova:instance>`), /the processing instruction <\?app\?> in <nova:instance> holds U\+0009/);
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><nova:name><![CDATA[a\nb]]></nova:name></nova:instance>`), /a CDATA section in <nova:name> holds U\+000A/);
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><nova:name><![CDATA[a\u0085]]></nova:name></nova:instance>`), /holds U\+0085/);
});

test('refused, naming why: a character XML does not allow, which a lenient parser let in through a reference', () => {
  refused(novaElement(`<nova:instance xmlns:nova="${N}"><nova:name>a&#1;b</nova:name></nova:instance>`), /the text of <nova:name> holds U\+0001, which XML does not allow/);
});

// ------------------------------------------------------------------------------------- property

const namespaces = fc.constantFrom<string | null>(N, N, 'urn:a', 'urn:b');
const prefixes = fc.constantFrom<string | null>(null, 'nova', 'a', 'b', 'ns1');
const texts = fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\n', '\r', '&', '<', '>', '"', "'", ']', '\u007f', '\u0085', 'é', '\u{1F600}'), maxLength: 8 });

interface Tree {
  readonly ns: string | null;
  readonly prefix: string | null;
  readonly attrs: readonly { ns: string | null; prefix: string | null; value: string }[];
  readonly text: string;
  readonly comment: boolean;
  readonly kids: readonly Tree[];
}

const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.record({
    ns: namespaces,
    prefix: prefixes,
    attrs: fc.array(fc.record({ ns: fc.constantFrom<string | null>(null, N, 'urn:a', 'urn:c'), prefix: prefixes, value: texts }), { maxLength: 3 }),
    text: texts,
    comment: fc.boolean(),
    kids: fc.oneof({ maxDepth: 3, depthIdentifier: 'tree' }, fc.constant([]), fc.array(tie('t'), { maxLength: 3 })),
  }),
})).t;

/** Builds the tree under a nova root through the DOM, so prefixes and namespaces are as free as the DOM allows. */
function build(t: Tree): Element {
  const root = novaElement(`<nova:instance xmlns:nova="${N}"/>`);
  const doc = root.ownerDocument;
  if (!doc) throw new Error('no document');
  let n = 0;
  const add = (parent: Element, node: Tree): void => {
    const ns = node.ns ?? N; // an element without a namespace is refused: tested above
    const el = doc.createElementNS(ns, node.prefix === null ? `e${n++}` : `${node.prefix}:e${n++}`);
    node.attrs.forEach((a, i) => {
      if (a.ns === null) el.setAttribute(`at${i}`, a.value);
      else el.setAttributeNS(a.ns, `${a.prefix ?? 'p'}:at${i}`, a.value);
    });
    if (node.comment) el.appendChild(doc.createComment(' c '));
    el.appendChild(doc.createTextNode(node.text));
    for (const k of node.kids) add(el, k);
    parent.appendChild(el);
  };
  add(root, t);
  return root;
}

test('property: any tree of elements with namespaces, prefixes clashing or not, and odd text is carried exactly', () => {
  fc.assert(
    fc.property(tree, (t) => {
      carried(build(t));
    }),
    { numRuns: 300 },
  );
});

test.run();
