export * from './message-trace-context.js';
export * from './token-metrics.js';
export * from './telemetry-bridge.js';
