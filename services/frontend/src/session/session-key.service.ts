import { SecretClient } from '@azure/keyvault-secrets';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { RefreshingSecret } from '@wi/azure';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

/** The key that signs CSRF tokens: Key Vault secret `frontend-session-key`, refreshed in the background. */
@Injectable()
export class SessionKeyService extends RefreshingSecret implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionKeyService.name);

  constructor(secrets: SecretClient, @Inject(FRONTEND_CONFIG) config: FrontendConfig) {
    super(secrets, {
      name: config.sessionSecretName,
      refreshIntervalMs: config.sessionKeyRefreshSeconds * 1000,
      onRefreshError: (err, loaded) =>
        this.logger.warn(
          { err },
          loaded
            ? 'session key refresh failed; keeping the cached version'
            : 'session key not loaded yet',
        ),
      onRotated: (version) => this.logger.log({ version }, 'session key rotated'),
    });
  }

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }
}
