import { isRestError, type RestError } from '@azure/core-rest-pipeline';
import {
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from '@azure/identity';
import { lastAttempt } from './describe-azure-error.js';

/** What a caller needs to know about a failed Azure call: whether waiting can fix it, and how long. */
export interface AzureFailure {
  /** Throttling, a timeout, a dependency that is down: the same call can succeed a moment later. */
  transient: boolean;
  /** Azure's own hint (Retry-After, x-ms-retry-after-ms), when it gave one. */
  retryAfterMs?: number;
}

/** Recognizes one SDK's typed errors; undefined when the error is not that SDK's. */
export type AzureFailureRecognizer = (error: unknown) => AzureFailure | undefined;

/** HTTP answers worth the same request again (RFC 9110's 408/429 and the transient 5xx). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Blob Storage, Key Vault and every pipeline-based client (Cosmos DB's network failures too):
 * a RestError with no status never reached the service (REQUEST_SEND_ERROR), one with a status
 * is the service's answer.
 */
export const recognizeRestError: AzureFailureRecognizer = (error) => {
  if (!isRestError(error)) return undefined;
  if (error.statusCode === undefined) return { transient: true };
  return {
    transient: isTransientStatus(error.statusCode),
    retryAfterMs: retryAfterFromHeaders(error),
  };
};

/**
 * The credential's errors: Entra's refusal (AADSTS..., HTTP 400/401) and a credential the
 * environment cannot build are not transient; an unreachable or overloaded token endpoint is.
 */
export const recognizeCredentialError: AzureFailureRecognizer = (error) => {
  if (error instanceof AuthenticationError) {
    return { transient: error.statusCode === 0 || isTransientStatus(error.statusCode) };
  }
  if (error instanceof CredentialUnavailableError) return { transient: false };
  if (error instanceof AuthenticationRequiredError) {
    // MSAL's own failure, kept as the cause: its errorCode says whether the network failed.
    const cause = error.cause as { errorCode?: unknown } | undefined;
    return { transient: cause?.errorCode === 'network_error' };
  }
  return undefined;
};

/** What every service loads anyway: the HTTP pipeline (every SDK) and the credential. */
const SHARED_RECOGNIZERS: readonly AzureFailureRecognizer[] = [
  recognizeRestError,
  recognizeCredentialError,
];

/**
 * Classifies a failure on the SDKs' typed errors (RestError.statusCode, the credential's error
 * classes, and those of the recognizers given), never on message text. A retried operation's
 * AggregateError is judged by its last attempt. Undefined: not an Azure SDK error at all (a bug,
 * say), which no caller should present as an outage. A service passes the recognizers of the
 * SDKs it loads (ServiceBusError from `@wi/azure/service-bus`, Cosmos DB's ErrorResponse in the
 * backend), so @wi/azure itself imports no SDK a service does not use.
 */
export function classifyAzureFailure(
  error: unknown,
  recognizers: readonly AzureFailureRecognizer[] = [],
): AzureFailure | undefined {
  const last = lastAttempt(error);
  for (const recognize of [...recognizers, ...SHARED_RECOGNIZERS]) {
    const failure = recognize(last);
    if (failure) return failure;
  }
  return undefined;
}

/** x-ms-retry-after-ms (Storage, Key Vault throttling), then Retry-After in seconds. */
function retryAfterFromHeaders(error: RestError): number | undefined {
  const headers = error.response?.headers;
  if (!headers) return undefined;
  const ms = Number(headers.get('x-ms-retry-after-ms') ?? headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(headers.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return undefined;
}
