// Types for scripts/system-node.mjs, for the TypeScript tests.
export declare const systemNode: string;
export declare const node18: string;
