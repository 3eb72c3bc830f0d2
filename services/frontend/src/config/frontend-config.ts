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
