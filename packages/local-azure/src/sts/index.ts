export * from './local-sts.js';
export * from './entra-errors.js';
export * from './service-account-tokens.js';
