/** DI tokens for what the Azure module provides; the SDK clients are injected by their classes. */
export const AZURE_CONFIG = Symbol('AZURE_CONFIG');
export const AZURE_CREDENTIAL = Symbol('AZURE_CREDENTIAL');
/** Optional: a CredentialDecorator the token cache wraps the SDK's credential with. */
export const AZURE_CREDENTIAL_DECORATOR = Symbol('AZURE_CREDENTIAL_DECORATOR');
