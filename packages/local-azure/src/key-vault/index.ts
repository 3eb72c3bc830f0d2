export * from './key-vault-emulator.js';
