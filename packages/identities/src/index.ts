export * from './vocabulary.js';
export * from './declaration.js';
export * from './local-ids.js';
export * from './used-resources.js';
export * from './ungranted-names.js';
export * from './start-order.js';
