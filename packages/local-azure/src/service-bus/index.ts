export * from './service-bus-emulator.js';
