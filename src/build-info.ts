/**
 * What the build records about itself (scripts/build.mjs defines it from package.json, the one
 * place the version and the Node minimum are declared); undefined when run from source.
 */
declare const NOVA_IPMETA_BUILD: { readonly version: string; readonly nodeMinimum: string } | undefined;

export const BUILD = typeof NOVA_IPMETA_BUILD === 'object' ? NOVA_IPMETA_BUILD : undefined;
