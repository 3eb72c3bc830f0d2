import { describe, expect, it } from 'vitest';
import { loadFrontendConfig } from './frontend-config.js';

const required = {
  BACKEND_URL: 'http://backend.doc-intake.svc.cluster.local:3001/',
  BACKEND_API_SCOPE: 'api://0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c/.default',
};

describe('loadFrontendConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadFrontendConfig(required);
    expect(config).toMatchObject({
      port: 3000,
      backendUrl: 'http://backend.doc-intake.svc.cluster.local:3001',
      uploadsContainer: 'uploads',
      documentsQueue: 'documents',
      sessionSecretName: 'frontend-session-key',
      maxUploadBytes: 10 * 1024 * 1024,
      cookieSecure: true,
      backendApiScope: required.BACKEND_API_SCOPE,
      identityPage: 'full', // [showcase]
      maxConcurrentUploads: 8,
    });
    expect(config.allowedContentTypes.has('text/plain')).toBe(true);
    expect(config.allowedContentTypes.has('application/x-msdownload')).toBe(false);
  });

  it('names a missing variable', () => {
    expect(() => loadFrontendConfig({})).toThrow('Missing environment variable BACKEND_URL');
  });

  it('names a malformed variable', () => {
    expect(() => loadFrontendConfig({ ...required, MAX_UPLOAD_BYTES: '10MB' })).toThrow(
      'Malformed environment variable MAX_UPLOAD_BYTES: must be a positive integer',
    );
    expect(() => loadFrontendConfig({ ...required, BACKEND_API_SCOPE: 'https://x' })).toThrow(
      "Malformed environment variable BACKEND_API_SCOPE: must be the backend API's scope",
    );
    // [showcase] begin
    expect(() => loadFrontendConfig({ ...required, IDENTITY_PAGE: 'some' })).toThrow(
      /IDENTITY_PAGE: must be 'full' or 'off'/,
    );
    // [showcase] end
    expect(() => loadFrontendConfig({ ...required, BACKEND_URL: 'backend:3001' })).toThrow(
      'Malformed environment variable BACKEND_URL: must be an http(s) URL',
    );
    expect(() => loadFrontendConfig({ ...required, ALLOWED_CONTENT_TYPES: 'text' })).toThrow(
      /ALLOWED_CONTENT_TYPES: must be a comma-separated list/,
    );
  });

  it('reads a custom list of content types, case-insensitively', () => {
    const config = loadFrontendConfig({
      ...required,
      ALLOWED_CONTENT_TYPES: 'Text/Plain, image/png',
    });
    expect([...config.allowedContentTypes]).toEqual(['text/plain', 'image/png']);
  });
});
