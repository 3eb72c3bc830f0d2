export * from './manifests.js';
export * from './env-file.js';
export * from './outputs.js';
export * from './kubectl.js';
export * from './overlays.js';
export * from './wiring.js';
export * from './uses.js';
export * from './keda.js'; // [keda]
export * from './pod-security.js';
export * from './schema.js';
export * from './format.js';
export * from './cli.js';
export type * from './types.js';
export * from './deploy-workflow.js';
