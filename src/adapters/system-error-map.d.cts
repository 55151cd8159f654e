/** util.getSystemErrorMap(), node:util loaded at the first call (./system-error-map.cjs). */
export declare function systemErrorMap(): Map<number, [string, string]>;
