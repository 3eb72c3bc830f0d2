export * from './identities-file.js';
