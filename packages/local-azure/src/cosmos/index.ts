export * from './cosmos-emulator.js';
