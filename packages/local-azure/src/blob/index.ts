export * from './blob-emulator.js';
export { AZURITE_ACCOUNT } from './azurite.js';
