import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { POD_AZURE_ENV } from '@wi/azure/testing';
import { vi } from 'vitest';
import {
  EntraTokenVerifier,
  InvalidAccessToken,
  type VerifiedCaller,
} from '../common/auth/entra-token.verifier.js';
import { DOCUMENTS_READ } from '../common/decorators/app-role.decorator.js';
import { DocumentsRepository } from '../documents/documents.repository.js';
import { publishOpenApiDocument } from '../openapi/openapi-document.js';
import { SigningKeyService } from '../signing/signing-key.service.js';

/** The variables the webhook and the Deployment give a pod; nothing here is contacted. */
export const BACKEND_TEST_ENV = {
  ...POD_AZURE_ENV,
  AZURE_COSMOS_ENDPOINT: 'https://cosmos.documents.invalid/',
  API_AUDIENCE: '0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c',
  WORKER_ENABLED: 'false',
  LOG_LEVEL: 'silent',
};

/** Bearer tokens the stand-in verifier accepts, and who each one is. */
export const TEST_CALLERS: Record<string, VerifiedCaller> = {
  frontend: { clientId: 'frontend-client-id', roles: [DOCUMENTS_READ] },
  'no-role': { clientId: 'someone-else', roles: [] },
};

/**
 * The real AppModule (every module, guard and filter as main.ts wires them) with its outside
 * world replaced: a verifier that knows TEST_CALLERS instead of Entra, a signing key instead of
 * Key Vault, and the given document store instead of Cosmos DB.
 */
export async function startBackendForTest(
  documents: Partial<DocumentsRepository> = {},
): Promise<{ app: INestApplication; url: string }> {
  // Stubbed, not assigned: the test worker runs other files after this one (isolate: false), and a
  // leaked WORKER_ENABLED=false would silence the worker of every backend they start.
  for (const [name, value] of Object.entries(BACKEND_TEST_ENV)) vi.stubEnv(name, value);
  // After the variables: the logger module reads LOG_LEVEL when app.module.ts loads.
  const { AppModule } = await import('../app.module.js');
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(EntraTokenVerifier)
    .useValue({
      verify: async (token: string) => {
        const caller = TEST_CALLERS[token];
        if (!caller) throw new InvalidAccessToken('unknown test token');
        return caller;
      },
    })
    .overrideProvider(SigningKeyService)
    .useValue({
      current: async () => ({ version: 'v1', value: Buffer.from('test-key') }),
      forVersion: async () => Buffer.from('test-key'),
    })
    .overrideProvider(DocumentsRepository)
    .useValue({ list: async () => [], get: async () => undefined, ...documents })
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  publishOpenApiDocument(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
