import { SecretClient } from '@azure/keyvault-secrets';
import { Inject, Injectable } from '@nestjs/common';
import { RefreshingSecret } from '@wi/azure';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

/** The key that signs CSRF tokens: Key Vault secret `frontend-session-key`, refreshed in the background. */
@Injectable()
export class SessionKeyService extends RefreshingSecret {
  constructor(secrets: SecretClient, @Inject(FRONTEND_CONFIG) config: FrontendConfig) {
    super(secrets, {
      name: config.sessionSecretName,
      refreshIntervalMs: config.sessionKeyRefreshSeconds * 1000,
    });
  }
}
