// The showcase (the Identity report): everything here goes when a fork removes it.
export * from './identity-report.module.js';
export * from './identity-report.options.js';
export * from './identity-reporter.js';
export * from './token-recorder.js';
export * from './declared-denials.js';
export * from './diagnose.js';
