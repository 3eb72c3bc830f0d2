import { SecretClient } from '@azure/keyvault-secrets';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { RefreshingSecret } from '@wi/azure';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/** The records' HMAC key: Key Vault secret `backend-signing-key`, refreshed in the background. */
@Injectable()
export class SigningKeyService extends RefreshingSecret implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeyService.name);

  constructor(secrets: SecretClient, @Inject(BACKEND_CONFIG) config: BackendConfig) {
    super(secrets, {
      name: config.signingSecretName,
      refreshIntervalMs: config.signingKeyRefreshSeconds * 1000,
      onRefreshError: (err, loaded) =>
        this.logger.warn(
          { err },
          loaded
            ? 'signing key refresh failed; keeping the cached version'
            : 'signing key not loaded yet',
        ),
      onRotated: (version) => this.logger.log({ version }, 'signing key rotated'),
    });
  }

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }
}
