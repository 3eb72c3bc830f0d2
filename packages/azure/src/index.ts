export * from './azure.module.js';
export * from './tokens.js';
export * from './config/azure-config.js';
export * from './credential/single-flight-credential.js';
export * from './credential/create-credential.js';
export * from './credential/credential-decorator.js';
export * from './health/azure-health.indicators.js';
export * from './errors/describe-azure-error.js';
export * from './errors/azure-failure.js';
export * from './errors/azure-failure.filter.js';
export * from './service/logger.module.js';
export * from './service/run-service.js';
export * from './service/server-limits.js';
export * from './secrets/refreshing-secret.js';
export * from './health/permission-probes.js';
export * from './telemetry/index.js';
export * from './identity-report/index.js'; // [showcase] (docs/forking.md)
