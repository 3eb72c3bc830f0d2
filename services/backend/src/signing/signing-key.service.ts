import { SecretClient } from '@azure/keyvault-secrets';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { describeAzureError } from '@wi/azure';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

export interface SigningKey {
  version: string;
  key: Buffer;
}

/**
 * The HMAC key from Key Vault. The latest version is cached and refreshed in the background, so a
 * rotated secret is used for new records without a restart; older versions are fetched once, by
 * version, to verify the records they signed.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeyService.name);
  private latest?: SigningKey;
  private readonly versions = new Map<string, Promise<Buffer>>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly secrets: SecretClient,
    @Inject(BACKEND_CONFIG) private readonly config: BackendConfig,
  ) {}

  onModuleInit(): void {
    // Not awaited: a vault that is briefly unreachable shows up in readiness, not as a crash loop.
    this.refresh().catch((error: unknown) =>
      this.logger.warn({ err: describeAzureError(error) }, 'signing key not loaded yet'),
    );
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn({ err: describeAzureError(error) }, 'signing key refresh failed; keeping the cached version'),
      );
    }, this.config.signingKeyRefreshSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async current(): Promise<SigningKey> {
    return this.latest ?? this.refresh();
  }

  async forVersion(version: string): Promise<Buffer> {
    if (this.latest?.version === version) return this.latest.key;
    let pending = this.versions.get(version);
    if (!pending) {
      pending = this.secrets
        .getSecret(this.config.signingSecretName, { version })
        .then((secret) => Buffer.from(secret.value ?? '', 'utf8'));
      // A failed fetch must not be cached as a permanent answer.
      pending.catch(() => this.versions.delete(version));
      this.versions.set(version, pending);
    }
    return pending;
  }

  private async refresh(): Promise<SigningKey> {
    const secret = await this.secrets.getSecret(this.config.signingSecretName);
    const version = secret.properties.version ?? '';
    if (!secret.value || !version) throw new Error(`Secret ${this.config.signingSecretName} has no value or version.`);
    if (this.latest?.version !== version) {
      if (this.latest) this.logger.log({ version }, 'signing key rotated');
      this.latest = { version, key: Buffer.from(secret.value, 'utf8') };
    }
    return this.latest;
  }
}
