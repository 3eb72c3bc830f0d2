export * from './tls/local-ca.js';
export * from './tokens/jwt.js';
export * from './tokens/access-token.js';
