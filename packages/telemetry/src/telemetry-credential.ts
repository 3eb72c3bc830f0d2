import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

/**
 * The credential the Azure Monitor exporters authenticate with. Telemetry starts before the
 * application, hence before its one credential exists; the Azure module binds that credential
 * here when it creates it, so ingestion shares its token cache and the identity report shows
 * the Azure Monitor audience like any other. Until then, a request waits.
 */
class DeferredCredential implements TokenCredential {
  private bind!: (credential: TokenCredential) => void;
  private readonly bound = new Promise<TokenCredential>((resolve) => (this.bind = resolve));

  use(credential: TokenCredential): void {
    this.bind(credential);
  }

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const credential = await this.bound;
    return credential.getToken(scopes, options);
  }
}

export const telemetryCredential = new DeferredCredential();

/** Called once by the Azure module with the process's only credential. */
export function useTelemetryCredential(credential: TokenCredential): void {
  telemetryCredential.use(credential);
}
