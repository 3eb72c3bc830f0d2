import { RestError } from '@azure/core-rest-pipeline';
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from '@azure/identity';
import { type ArgumentsHost, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import type { AzureFailure } from './azure-failure.js';
import { describeAzureError } from './describe-azure-error.js';

/**
 * What the HTTP pipeline and the credential throw, for each service's @Catch(...), beside the
 * error classes of the SDKs it loads (SERVICE_BUS_ERRORS, Cosmos DB's). Nest picks a filter by
 * instanceof, so a filter that names these never sees an HttpException: a client's 400, 401 or
 * 404 keeps its own answer (and the auth filter its WWW-Authenticate challenge).
 */
export const AZURE_SDK_ERRORS = [
  RestError,
  AuthenticationError,
  AggregateAuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
  // The Service Bus SDK's retries end in one, holding every attempt.
  AggregateError,
] as const;

/** Told to a client when Azure gave no hint: long enough for a throttled call to clear. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Answers an Azure failure once for every route (the cats sample's HttpExceptionFilter, registered
 * with APP_FILTER as immich does), instead of a try/catch in each controller: 503 with a short
 * message, Retry-After when waiting can help (Azure's own hint if it gave one), and the detail in
 * the log only: no Azure message, code, resource name or principal reaches the caller. What
 * `classify` does not know goes to Nest's own handler: HttpExceptions as they are, anything else
 * a bare 500.
 */
export abstract class AzureFailureFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('AzureUnavailable');

  /** The service's classification: the shared SDKs' and its own. */
  protected abstract classify(error: unknown): AzureFailure | undefined;

  /** The caller's sentence; a service may name the dependency (the backend API, say). */
  protected message(_error: unknown): string {
    return 'A service this request depends on is unavailable; try again shortly.';
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const failure = host.getType() === 'http' ? this.classify(exception) : undefined;
    if (!failure) return super.catch(exception, host);
    const response = host.switchToHttp().getResponse<Response>();
    this.logger.error(
      { err: describeAzureError(exception), transient: failure.transient },
      'dependency unavailable',
    );
    if (response.headersSent) return;
    if (failure.transient) response.setHeader('retry-after', String(retryAfterSeconds(failure)));
    response
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .setHeader('cache-control', 'no-store')
      .json({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: this.message(exception) });
  }
}

function retryAfterSeconds({ retryAfterMs }: AzureFailure): number {
  if (retryAfterMs === undefined) return DEFAULT_RETRY_AFTER_SECONDS;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(retryAfterMs / 1000)));
}
