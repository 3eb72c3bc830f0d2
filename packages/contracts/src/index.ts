export * from './document-uploaded.message.js';
export * from './document-record.js';
export * from './identity-report.js';
