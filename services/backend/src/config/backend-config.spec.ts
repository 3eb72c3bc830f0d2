import { describe, expect, it } from 'vitest';
import { loadBackendConfig } from './backend-config.js';

const required = { API_AUDIENCE: '0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c' };

describe('loadBackendConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadBackendConfig(required)).toMatchObject({
      port: 3001,
      apiAudience: required.API_AUDIENCE,
      uploadsContainer: 'uploads',
      documentsQueue: 'documents',
      cosmosDatabase: 'intake',
      cosmosContainer: 'documents',
      signingSecretName: 'backend-signing-key',
      workerEnabled: true,
    });
  });

  it('refuses to start without the API audience', () => {
    expect(() => loadBackendConfig({})).toThrow('Missing environment variable API_AUDIENCE');
    expect(() => loadBackendConfig({ API_AUDIENCE: 'api://backend' })).toThrow(
      /Malformed environment variable API_AUDIENCE: must be the GUID/,
    );
  });

  it('names a malformed variable', () => {
    expect(() => loadBackendConfig({ ...required, WORKER_MAX_CONCURRENCY: 'many' })).toThrow(
      'Malformed environment variable WORKER_MAX_CONCURRENCY: must be a positive integer',
    );
    expect(() => loadBackendConfig({ ...required, WORKER_ENABLED: 'yes' })).toThrow(
      /WORKER_ENABLED: must be 'true' or 'false'/,
    );
  });
});
