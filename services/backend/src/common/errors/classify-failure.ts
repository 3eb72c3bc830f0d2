import { ErrorResponse, TimeoutError } from '@azure/cosmos';
import {
  type AzureFailure,
  type AzureFailureRecognizer,
  classifyAzureFailure,
  isTransientStatus,
} from '@wi/azure';
import { recognizeServiceBusError } from '@wi/azure/service-bus';

/**
 * Cosmos DB answers with an ErrorResponse whose code is the HTTP status (429 with its own
 * retry-after, 449 retry-with, 410 gone while a partition moves); its network failures are the
 * pipeline's RestError, which the shared recognizers know.
 */
export const recognizeCosmosError: AzureFailureRecognizer = (error) => {
  if (error instanceof TimeoutError) return { transient: true };
  if (!(error instanceof ErrorResponse)) return undefined;
  const status = typeof error.code === 'number' ? error.code : Number(error.statusCode);
  if (!Number.isInteger(status)) return { transient: true };
  return {
    transient: isTransientStatus(status) || status === 449 || status === 410,
    retryAfterMs: error.retryAfterInMs,
  };
};

/** The backend's Azure failures: the pipeline's and credential's, Service Bus's and Cosmos DB's. */
export function classifyFailure(error: unknown): AzureFailure | undefined {
  return classifyAzureFailure(error, [recognizeCosmosError, recognizeServiceBusError]);
}
