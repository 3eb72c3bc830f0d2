import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ServiceIdentity } from '../identities/index.js';
import { signJwt, type JwtClaims, type SigningKey } from '../tokens/jwt.js';

/** The file name the workload identity webhook mounts the projected token as. */
export const TOKEN_FILE_NAME = 'azure-identity-token';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export interface ServiceAccountTokenOverrides {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Negative values write an already expired token. */
  lifetimeSeconds?: number;
}

/**
 * Plays the kubelet: writes each pod's projected service account token to a file and replaces it
 * at 80 % of its lifetime, so a credential that reads the file once breaks after an hour, as on AKS.
 */
export class ServiceAccountTokenWriter {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly options: {
      stateDir: string;
      issuerUrl: () => string;
      signingKey: SigningKey;
      lifetimeSeconds: number;
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
    const { namespace, name } = identity.serviceAccount;
    const claims: JwtClaims = {
      aud: overrides.aud ?? [TOKEN_EXCHANGE_AUDIENCE],
      exp: now + lifetime,
      iat: Math.min(now, now + lifetime - 1),
      nbf: Math.min(now, now + lifetime - 1),
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
    await writeFile(temp, signJwt(claims, this.options.signingKey), { mode: 0o600 });
    await rename(temp, file);
    this.schedule(identity, Object.keys(overrides).length === 0 ? lifetime : undefined);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(identity: ServiceIdentity, lifetimeSeconds: number | undefined): void {
    clearTimeout(this.timers.get(identity.service));
    this.timers.delete(identity.service);
    if (lifetimeSeconds === undefined || lifetimeSeconds <= 0) return;
    const timer = setTimeout(() => void this.write(identity), lifetimeSeconds * 800);
    timer.unref();
    this.timers.set(identity.service, timer);
  }
}
