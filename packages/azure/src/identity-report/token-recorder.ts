import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { Injectable } from '@nestjs/common';
import type { IdentityToken } from '@wi/contracts';
import type { CredentialDecorator } from '../credential/credential-decorator.js';
import { jwtClaims } from './jwt-claims.js';

/** The claims the report shows: who the token is for and about, never anything that grants. */
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
 * The token records of the Identity report, per audience: which credential got the last token,
 * its public claims and expiry, the last error, and how many exchanges there were. The token
 * cache wraps the SDK's credential with `decorate`, so every call seen here is an exchange with
 * Entra (cached tokens never reach it).
 */
@Injectable()
export class TokenRecorder implements CredentialDecorator {
  private readonly byScope = new Map<string, IdentityToken>();
  /** For tests: the clock of acquiredAt and lastError.at. */
  now: () => number = () => Date.now();

  decorate(credential: TokenCredential): TokenCredential {
    return new RecordingCredential(credential, this, credentialName(credential, process.env));
  }

  records(): IdentityToken[] {
    return [...this.byScope.values()].map((record) => ({ ...record }));
  }

  /** @internal RecordingCredential's entry. */
  record(scopes: string | string[]): IdentityToken {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    let record = this.byScope.get(scope);
    if (!record) this.byScope.set(scope, (record = { scope, exchanges: 0 }));
    return record;
  }
}

/** The decorator itself: a TokenCredential that records each exchange of the one it wraps. */
class RecordingCredential implements TokenCredential {
  constructor(
    private readonly inner: TokenCredential,
    private readonly recorder: TokenRecorder,
    private readonly name: string,
  ) {}

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const record = this.recorder.record(scopes);
    record.exchanges += 1;
    try {
      const token = await this.inner.getToken(scopes, options);
      if (token) {
        Object.assign(record, {
          credential: this.name,
          acquiredAt: new Date(this.recorder.now()).toISOString(),
          expiresOn: new Date(token.expiresOnTimestamp).toISOString(),
          claims: publicClaims(token.token),
          lastError: undefined,
        });
      }
      return token;
    } catch (error) {
      record.lastError = {
        at: new Date(this.recorder.now()).toISOString(),
        message: error instanceof Error ? error.message : String(error),
      };
      throw error;
    }
  }
}

/**
 * Which credential authenticates. DefaultAzureCredential does not say publicly which source of
 * its chain answered; AZURE_TOKEN_CREDENTIALS naming one credential (the Deployments and the local
 * cloud set WorkloadIdentityCredential) leaves that one alone in the chain, so it is the answer.
 * With a group ("prod", "dev") or nothing set, the report says DefaultAzureCredential.
 */
export function credentialName(credential: TokenCredential, env: NodeJS.ProcessEnv): string {
  const name = credential.constructor.name;
  const pinned = env.AZURE_TOKEN_CREDENTIALS?.trim();
  return name === 'DefaultAzureCredential' && pinned && /credential$/i.test(pinned) ? pinned : name;
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
