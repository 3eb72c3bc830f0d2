import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { IdentityToken } from '@wi/contracts';
import { jwtClaims } from '../identity/jwt-claims.js';
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

/** What the identity report shows about one audience: never the token itself. */
export type TokenRecord = IdentityToken;

/** ChainedTokenCredential's internal method that also says which credential succeeded. */
interface ChainInternals {
  getTokenInternal?: (
    scopes: string | string[],
    options?: GetTokenOptions,
  ) => Promise<{ token: AccessToken; successfulCredential: TokenCredential }>;
}

const REPORTED_CLAIMS = [
  'aud',
  'iss',
  'tid',
  'oid',
  'appid',
  'azp',
  'sub',
  'idtyp',
  'xms_mirid',
  'iat',
  'nbf',
  'exp',
];

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
  private readonly records = new Map<string, TokenRecord>();

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
      const record = this.recordFor(scopes);
      record.exchanges += 1;
      const started = performance.now();
      try {
        const { token, credential } = await this.acquire(scopes, shared);
        recordTokenAcquisition(scopes, (performance.now() - started) / 1000);
        entry.token = token;
        entry.failure = undefined;
        Object.assign(record, {
          credential,
          acquiredAt: new Date(this.now()).toISOString(),
          expiresOn: new Date(token.expiresOnTimestamp).toISOString(),
          claims: publicClaims(token.token),
          lastError: undefined,
        });
        return token;
      } catch (error) {
        recordTokenAcquisition(scopes, (performance.now() - started) / 1000, error);
        const delayMs = entry.failure
          ? Math.min(entry.failure.delayMs * 2, MAX_RETRY_DELAY_MS)
          : FIRST_RETRY_DELAY_MS;
        entry.failure = { error, retryAt: this.now() + delayMs, delayMs };
        record.lastError = {
          at: new Date(this.now()).toISOString(),
          message: error instanceof Error ? error.message : String(error),
        };
        throw error;
      }
    } finally {
      entry.pending = undefined;
    }
  }

  /** Per audience: which credential got the last token, its public claims, the last error. */
  tokenRecords(): TokenRecord[] {
    return [...this.records.values()].map((record) => ({ ...record }));
  }

  private recordFor(scopes: string | string[]): TokenRecord {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    let record = this.records.get(scope);
    if (!record) this.records.set(scope, (record = { scope, exchanges: 0 }));
    return record;
  }

  /**
   * DefaultAzureCredential only logs which credential in its chain succeeded; its internal
   * getTokenInternal returns it. Used when present, for the identity report only.
   */
  private async acquire(
    scopes: string | string[],
    options: GetTokenOptions,
  ): Promise<{ token: AccessToken; credential: string }> {
    const chain = this.inner as TokenCredential & ChainInternals;
    if (typeof chain.getTokenInternal === 'function') {
      const { token, successfulCredential } = await chain.getTokenInternal(scopes, options);
      return { token, credential: successfulCredential.constructor.name };
    }
    const token = await this.inner.getToken(scopes, options);
    if (!token) throw new Error(`The credential returned no token for ${String(scopes)}`);
    return { token, credential: this.inner.constructor.name };
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

function publicClaims(jwt: string): Record<string, unknown> | undefined {
  try {
    const payload = jwtClaims(jwt);
    return Object.fromEntries(
      REPORTED_CLAIMS.filter((c) => c in payload).map((c) => [c, payload[c]]),
    );
  } catch {
    return undefined;
  }
}
