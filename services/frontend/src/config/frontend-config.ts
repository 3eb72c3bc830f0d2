import { envVar, parseEnvironment } from '@wi/azure';
import { z } from 'zod';

export const FRONTEND_CONFIG = Symbol('FRONTEND_CONFIG');

const { positiveInt, name, flag } = envVar;

/** Types a person would upload to an intake form; anything else is refused before a byte is stored. */
export const DEFAULT_ALLOWED_CONTENT_TYPES = [
  'text/plain',
  'text/markdown',
  'text/csv',
  'application/json',
  'application/pdf',
  'image/png',
  'image/jpeg',
];

const schema = z.object({
  PORT: positiveInt(3000),
  BACKEND_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
  BACKEND_TIMEOUT_MS: positiveInt(5_000),
  // The scope the frontend asks Entra for to call the backend: api://<backend app id>/.default.
  // Entra issues that token only to an identity assigned one of the API's app roles.
  BACKEND_API_SCOPE: z.string().regex(/^api:\/\/[\w.-]+(\/[\w.-]+)*\/\.default$/, {
    message: "must be the backend API's scope, api://<app id>/.default",
  }),
  // [showcase] begin
  // What the public Identity page and /api/identity/backend show: 'full' (both services' reports:
  // client ids, tenant, principal ids, token file, resource names and live probes), or 'off'
  // (404). Full by default, which is what `pnpm dev` and compose show; the AKS Deployment sets
  // 'off' and a learner turns it on in the overlay (docs/troubleshooting.md).
  IDENTITY_PAGE: z.enum(['full', 'off'], { message: "must be 'full' or 'off'" }).default('full'),
  // [showcase] end
  // Uploads handled at once by one pod; more are answered 503 with Retry-After. Each holds up to
  // three 1 MiB blocks plus stream buffers: 8 keep a pod far under its 384 MiB limit.
  MAX_CONCURRENT_UPLOADS: positiveInt(8),
  UPLOADS_CONTAINER: name('uploads'),
  DOCUMENTS_QUEUE: name('documents'),
  SESSION_SECRET_NAME: name('frontend-session-key'),
  SESSION_KEY_REFRESH_SECONDS: positiveInt(300),
  MAX_UPLOAD_BYTES: positiveInt(10 * 1024 * 1024),
  ALLOWED_CONTENT_TYPES: z
    .string()
    .regex(
      /^[\w.+-]+\/[\w.+-]+(,\s*[\w.+-]+\/[\w.+-]+)*$/,
      'must be a comma-separated list of type/subtype',
    )
    .optional(),
  // Browsers send Secure cookies only over HTTPS (and to http://localhost in Chromium and
  // Firefox); behind the AKS ingress the site is HTTPS, so the safe default is on.
  COOKIE_SECURE: flag('true'),
});

export interface FrontendConfig {
  port: number;
  backendUrl: string;
  backendTimeoutMs: number;
  backendApiScope: string;
  identityPage: 'full' | 'off'; // [showcase]
  maxConcurrentUploads: number;
  uploadsContainer: string;
  documentsQueue: string;
  sessionSecretName: string;
  sessionKeyRefreshSeconds: number;
  maxUploadBytes: number;
  allowedContentTypes: ReadonlySet<string>;
  cookieSecure: boolean;
}

/** Validates the frontend's own variables, naming the first missing or bad one in the error. */
export function loadFrontendConfig(env: NodeJS.ProcessEnv): FrontendConfig {
  const c = parseEnvironment(schema, env);
  return {
    port: c.PORT,
    backendUrl: c.BACKEND_URL.replace(/\/+$/, ''),
    backendTimeoutMs: c.BACKEND_TIMEOUT_MS,
    backendApiScope: c.BACKEND_API_SCOPE,
    identityPage: c.IDENTITY_PAGE, // [showcase]
    maxConcurrentUploads: c.MAX_CONCURRENT_UPLOADS,
    uploadsContainer: c.UPLOADS_CONTAINER,
    documentsQueue: c.DOCUMENTS_QUEUE,
    sessionSecretName: c.SESSION_SECRET_NAME,
    sessionKeyRefreshSeconds: c.SESSION_KEY_REFRESH_SECONDS,
    maxUploadBytes: c.MAX_UPLOAD_BYTES,
    allowedContentTypes: new Set(
      (c.ALLOWED_CONTENT_TYPES?.split(',') ?? DEFAULT_ALLOWED_CONTENT_TYPES).map((type) =>
        type.trim().toLowerCase(),
      ),
    ),
    cookieSecure: c.COOKIE_SECURE === 'true',
  };
}
