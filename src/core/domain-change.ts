/**
 * A domain document read to be changed and printed whole (the hook's filter, `inject`): by the
 * lean reader where the text is libvirt's plain XML (core/lean-xml.ts), so that neither the read
 * nor the print loads the XML library, and what is printed is the text as it came but for the
 * elements changed; by the DOM otherwise, which prints the document as xmldom serializes it.
 */
import { parseDomain, readDomain, type Domain } from './domain';
import { parseLeanXml } from './lean-xml';
import { serializeXml } from './xml-document';

export interface DomainToChange {
  readonly domain: Domain;
  /**
   * The document with the changes made to `domain` so far, from its first markup to its last and
   * one line feed: hooks/qemu passes on only output that starts with `<` and ends with the domain.
   */
  readonly text: () => string;
}

export function readDomainToChange(xml: string, source: string): DomainToChange {
  const lean = parseLeanXml(xml);
  if (lean) {
    // A root that is not a domain says so as the DOM's reading would: readDomain is the same.
    const domain = readDomain(lean.document, source);
    return { domain, text: () => trimmed(lean.serialize()) };
  }
  const domain = parseDomain(xml, source);
  return { domain, text: () => trimmed(serializeXml(domain.doc)) };
}

/** XML's white space outside the root element means nothing (the lean reader allows no other). */
function trimmed(text: string): string {
  return `${text.replace(/^[ \t\n]+/, '').replace(/[ \t\n]+$/, '')}\n`;
}
