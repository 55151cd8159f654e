/** @xmldom/xmldom, loaded at the first call (./xmldom.cjs). */
export declare function xmldom(): typeof import('@xmldom/xmldom');
