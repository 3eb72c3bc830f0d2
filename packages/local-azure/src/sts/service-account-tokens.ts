import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ServiceIdentity, TOKEN_EXCHANGE_AUDIENCE } from '../identities/index.js';
import { generateSigningKey, signJwt, type JwtClaims, type SigningKey } from '../tokens/jwt.js';

/** The file name the workload identity webhook mounts the projected token as. */
export const TOKEN_FILE_NAME = 'azure-identity-token';
const WALL_CLOCK_CHECK_MS = 1000;

export interface ServiceAccountTokenOverrides {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Negative values write an already expired token. */
  lifetimeSeconds?: number;
  /** Seconds from now until the token becomes valid (nbf): a clock ahead of the cluster's. */
  notBeforeSeconds?: number;
  /** Sign with another key than the issuer's (its JWKS does not list it), as after a key rotation. */
  signWithUnlistedKey?: boolean;
}

/**
 * Plays the kubelet: writes each pod's projected service account token to a file and replaces it
 * at 80 % of its lifetime, so a credential that reads the file once breaks after an hour, as on AKS.
 */
export class ServiceAccountTokenWriter {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly options: {
      stateDir: string;
      issuerUrl: () => string;
      signingKey: SigningKey;
      lifetimeSeconds: number;
      log?: (event: Record<string, unknown>) => void;
    },
  ) {}

  tokenFilePath(service: string): string {
    return join(this.options.stateDir, 'tokens', service, TOKEN_FILE_NAME);
  }

  /** Writes a token now; with overrides (tests), stops rotating that file until the next default write. */
  async write(
    identity: ServiceIdentity,
    overrides: ServiceAccountTokenOverrides = {},
  ): Promise<void> {
    const lifetime = overrides.lifetimeSeconds ?? this.options.lifetimeSeconds;
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = Math.min(now, now + lifetime - 1);
    const { namespace, name } = identity.serviceAccount;
    const claims: JwtClaims = {
      aud: overrides.aud ?? [TOKEN_EXCHANGE_AUDIENCE],
      exp: now + lifetime,
      iat: issuedAt,
      nbf: issuedAt + (overrides.notBeforeSeconds ?? 0),
      iss: overrides.iss ?? this.options.issuerUrl(),
      sub: overrides.sub ?? `system:serviceaccount:${namespace}:${name}`,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace,
        pod: { name: `${identity.service}-local`, uid: randomUUID() },
        serviceaccount: { name, uid: randomUUID() },
      },
    };
    const file = this.tokenFilePath(identity.service);
    await mkdir(dirname(file), { recursive: true });
    // Atomic replace, as the kubelet's projected volume does: a reader never sees half a token.
    const temp = `${file}.${process.pid}.tmp`;
    const key = overrides.signWithUnlistedKey ? generateSigningKey() : this.options.signingKey;
    await writeFile(temp, await signJwt(claims, key), { mode: 0o600 });
    await rename(temp, file);
    this.options.log?.({
      event: 'service-account-token-written',
      service: identity.service,
      issuedAt: new Date(issuedAt * 1000).toISOString(),
      expiresAt: new Date((now + lifetime) * 1000).toISOString(),
    });
    const rotates = Object.keys(overrides).length === 0 && lifetime > 0;
    this.schedule(identity, rotates ? (now + lifetime * 0.8) * 1000 : undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Rotation follows the wall clock, as the kubelet's does, rather than one long timer: a laptop
   * that slept through the rotation time rotates on waking, and a test that runs the clock fast
   * sees rotation at 80 % of the lifetime on that clock.
   */
  private schedule(identity: ServiceIdentity, rotateAtMs: number | undefined): void {
    clearTimeout(this.timers.get(identity.service));
    this.timers.delete(identity.service);
    if (rotateAtMs === undefined || this.stopped) return;
    const check = () => {
      const remainingMs = rotateAtMs - Date.now();
      if (remainingMs <= 0) {
        this.timers.delete(identity.service);
        void this.write(identity);
        return;
      }
      const timer = setTimeout(check, Math.min(remainingMs, WALL_CLOCK_CHECK_MS));
      timer.unref();
      this.timers.set(identity.service, timer);
    };
    check();
  }
}
