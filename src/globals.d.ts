/** Set by esbuild at build time (scripts/build.mjs); absent when run from source. */
declare const NOVA_IPMETA_VERSION: string | undefined;
