import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { recordTokenAcquisition } from '../telemetry/token-metrics.js';

/** Refresh this long before expiry, as the Azure SDK's own token cycler does. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** After a failed exchange, callers get that failure for 1 s, then 2, 4 … up to 30 s. */
const FIRST_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 30_000;

interface CacheEntry {
  token?: AccessToken;
  pending?: Promise<AccessToken>;
  /** The last exchange failed: until retryAt, callers get its error without a new exchange. */
  failure?: { error: unknown; retryAt: number; delayMs: number };
}

/**
 * Wraps the process's one DefaultAzureCredential so that every SDK client shares one token per
 * audience: concurrent callers wait on the same exchange, and a cached token is reused until it
 * is due for refresh (refreshAfterTimestamp, or five minutes before expiry). MSAL caches too, but
 * it does not join concurrent cache misses: 200 simultaneous first calls would be 200 exchanges.
 * A failed exchange is not retried by every caller at once either: its error is reused for a
 * second, then for longer each time it fails again (up to 30 s).
 */
export class SingleFlightCredential implements TokenCredential {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const key = cacheKey(scopes, options);
    const entry = this.cache.get(key) ?? {};
    this.cache.set(key, entry);
    if (entry.token && !this.isDueForRefresh(entry.token)) return entry.token;
    if (!entry.pending && entry.failure && this.now() < entry.failure.retryAt) {
      // A refused assertion (an expired token file, a missing federated credential) is refused
      // again a moment later: without a pause, every request would be a call to Entra, which
      // throttles the identity in the end, for its healthy pods too.
      if (entry.token && entry.token.expiresOnTimestamp > this.now()) return entry.token;
      throw entry.failure.error;
    }
    entry.pending ??= this.exchange(scopes, options, entry);
    try {
      return await entry.pending;
    } catch (error) {
      // A still-valid token beats an error while the token endpoint is briefly unreachable.
      if (entry.token && entry.token.expiresOnTimestamp > this.now()) return entry.token;
      throw error;
    }
  }

  private async exchange(
    scopes: string | string[],
    options: GetTokenOptions | undefined,
    entry: CacheEntry,
  ): Promise<AccessToken> {
    try {
      // The caller's abort signal must not cancel an exchange other callers are waiting on.
      const { abortSignal: _ownSignal, ...shared } = options ?? {};
      const started = performance.now();
      try {
        const token = await this.inner.getToken(scopes, shared);
        if (!token) throw new Error(`The credential returned no token for ${String(scopes)}`);
        recordTokenAcquisition(scopes, (performance.now() - started) / 1000);
        entry.token = token;
        entry.failure = undefined;
        return token;
      } catch (error) {
        recordTokenAcquisition(scopes, (performance.now() - started) / 1000, error);
        const delayMs = entry.failure
          ? Math.min(entry.failure.delayMs * 2, MAX_RETRY_DELAY_MS)
          : FIRST_RETRY_DELAY_MS;
        entry.failure = { error, retryAt: this.now() + delayMs, delayMs };
        throw error;
      }
    } finally {
      entry.pending = undefined;
    }
  }

  private isDueForRefresh(token: AccessToken): boolean {
    return (
      this.now() >= (token.refreshAfterTimestamp ?? token.expiresOnTimestamp - REFRESH_MARGIN_MS)
    );
  }
}

function cacheKey(scopes: string | string[], options?: GetTokenOptions): string {
  const list = (Array.isArray(scopes) ? scopes : [scopes]).slice().sort();
  return JSON.stringify([
    list,
    options?.tenantId ?? '',
    options?.claims ?? '',
    options?.enableCae ?? false,
  ]);
}
