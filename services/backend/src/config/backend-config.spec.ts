import { describe, expect, it } from 'vitest';
import { loadBackendConfig } from './backend-config.js';

describe('loadBackendConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadBackendConfig({})).toMatchObject({
      port: 3001,
      uploadsContainer: 'uploads',
      documentsQueue: 'documents',
      cosmosDatabase: 'intake',
      cosmosContainer: 'documents',
      signingSecretName: 'backend-signing-key',
      workerEnabled: true,
    });
  });

  it('names a malformed variable', () => {
    expect(() => loadBackendConfig({ WORKER_MAX_CONCURRENCY: 'many' })).toThrow(
      'Malformed environment variable WORKER_MAX_CONCURRENCY: must be a positive integer',
    );
    expect(() => loadBackendConfig({ WORKER_ENABLED: 'yes' })).toThrow(
      /WORKER_ENABLED: must be 'true' or 'false'/,
    );
  });
});
