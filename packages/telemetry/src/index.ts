// Light on purpose: the OpenTelemetry SDK is imported by startTelemetry() only, so importing this
// package (the Azure module does, to bind its credential and flush at shutdown) loads nothing.
export * from './export-plan.js';
export * from './start-telemetry.js';
export * from './telemetry-credential.js';
