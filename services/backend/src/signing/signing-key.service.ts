import { SecretClient } from '@azure/keyvault-secrets';
import { Inject, Injectable } from '@nestjs/common';
import { RefreshingSecret } from '@wi/azure';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';

/** The records' HMAC key: Key Vault secret `backend-signing-key`, refreshed in the background. */
@Injectable()
export class SigningKeyService extends RefreshingSecret {
  constructor(secrets: SecretClient, @Inject(BACKEND_CONFIG) config: BackendConfig) {
    super(secrets, {
      name: config.signingSecretName,
      refreshIntervalMs: config.signingKeyRefreshSeconds * 1000,
    });
  }
}
