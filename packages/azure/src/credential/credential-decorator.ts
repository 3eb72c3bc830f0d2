import type { TokenCredential } from '@azure/core-auth';

/**
 * Wraps the SDK's credential inside the token cache (SingleFlightCredential), so what it wraps
 * sees each token exchange, not each cached getToken call. A module provides one under
 * AZURE_CREDENTIAL_DECORATOR to observe the exchanges (the Identity report keeps its token
 * records this way); without one, the cache wraps the SDK's credential directly.
 */
export interface CredentialDecorator {
  decorate(credential: TokenCredential): TokenCredential;
}
