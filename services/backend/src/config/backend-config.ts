import { envVar, parseEnvironment } from '@wi/azure';
import { z } from 'zod';

export const BACKEND_CONFIG = Symbol('BACKEND_CONFIG');

const { positiveInt, name, flag } = envVar;

const schema = z.object({
  PORT: positiveInt(3001),
  // The application (client) id of the backend API's app registration: the `aud` of the v2
  // access tokens Entra issues for api://<it>/.default. Required: without it no caller can be
  // verified, and the API refuses to start rather than serve anyone.
  API_AUDIENCE: z.guid({ message: "must be the GUID of the API's app registration (its appId)" }),
  UPLOADS_CONTAINER: name('uploads'),
  DOCUMENTS_QUEUE: name('documents'),
  COSMOS_DATABASE: name('intake'),
  COSMOS_CONTAINER: name('documents'),
  SIGNING_SECRET_NAME: name('backend-signing-key'),
  SIGNING_KEY_REFRESH_SECONDS: positiveInt(300),
  WORKER_ENABLED: flag('true'),
  WORKER_MAX_CONCURRENCY: positiveInt(8),
  WORKER_DRAIN_TIMEOUT_MS: positiveInt(25_000),
  WORKER_MAX_LOCK_RENEWAL_MS: positiveInt(300_000),
  WORKER_RETRY_BUDGET_MS: positiveInt(60_000),
});

export interface BackendConfig {
  port: number;
  apiAudience: string;
  uploadsContainer: string;
  documentsQueue: string;
  cosmosDatabase: string;
  cosmosContainer: string;
  signingSecretName: string;
  signingKeyRefreshSeconds: number;
  workerEnabled: boolean;
  workerMaxConcurrency: number;
  workerDrainTimeoutMs: number;
  workerMaxLockRenewalMs: number;
  /** How long one delivery retries a transient failure before it is abandoned. */
  workerRetryBudgetMs: number;
}

/** Validates the backend's own variables, naming the first bad one in the error. */
export function loadBackendConfig(env: NodeJS.ProcessEnv): BackendConfig {
  const c = parseEnvironment(schema, env);
  return {
    port: c.PORT,
    apiAudience: c.API_AUDIENCE.toLowerCase(),
    uploadsContainer: c.UPLOADS_CONTAINER,
    documentsQueue: c.DOCUMENTS_QUEUE,
    cosmosDatabase: c.COSMOS_DATABASE,
    cosmosContainer: c.COSMOS_CONTAINER,
    signingSecretName: c.SIGNING_SECRET_NAME,
    signingKeyRefreshSeconds: c.SIGNING_KEY_REFRESH_SECONDS,
    workerEnabled: c.WORKER_ENABLED === 'true',
    workerMaxConcurrency: c.WORKER_MAX_CONCURRENCY,
    workerDrainTimeoutMs: c.WORKER_DRAIN_TIMEOUT_MS,
    workerMaxLockRenewalMs: c.WORKER_MAX_LOCK_RENEWAL_MS,
    workerRetryBudgetMs: c.WORKER_RETRY_BUDGET_MS,
  };
}
