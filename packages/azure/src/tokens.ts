/** DI tokens for what the Azure module provides; the SDK clients are injected by their classes. */
export const AZURE_CONFIG = Symbol('AZURE_CONFIG');
export const AZURE_CREDENTIAL = Symbol('AZURE_CREDENTIAL');
export const AZURE_MODULE_OPTIONS = Symbol('AZURE_MODULE_OPTIONS');
