export * from './document-uploaded.message.js';
export * from './document-record.js';
export * from './permission-probe.js';
export * from './identity-report.js'; // [showcase]
