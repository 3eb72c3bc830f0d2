import { Catch } from '@nestjs/common';
import {
  AZURE_SDK_ERRORS,
  type AzureFailure,
  AzureFailureFilter,
  classifyAzureFailure,
  isTransientStatus,
} from '@wi/azure';
import { recognizeServiceBusError, SERVICE_BUS_ERRORS } from '@wi/azure/service-bus';
import { BackendUnavailableError } from '../../documents/backend-client.js';

/**
 * Registered globally (app.module.ts): an Azure failure, or the backend API out of reach, is a
 * 503 for every route, once. The upload form's own answers (HTML or JSON, with the blob cleaned
 * up) stay the uploads controller's.
 */
@Catch(...AZURE_SDK_ERRORS, ...SERVICE_BUS_ERRORS, BackendUnavailableError)
export class AzureUnavailableFilter extends AzureFailureFilter {
  protected override classify(error: unknown): AzureFailure | undefined {
    if (error instanceof BackendUnavailableError) return classifyBackendFailure(error);
    return classifyAzureFailure(error, [recognizeServiceBusError]);
  }

  protected override message(error: unknown): string {
    return error instanceof BackendUnavailableError
      ? 'The document service is unavailable; try again shortly.'
      : super.message(error);
  }
}

/**
 * The backend's own answer (its 503 is transient, its 401/403 a misconfigured role that waiting
 * will not fix), or else what kept the call from being made: the token exchange's typed error, or
 * the network (a timeout, a refused connection), which is transient.
 */
function classifyBackendFailure(error: BackendUnavailableError): AzureFailure {
  if (error.statusCode !== undefined) return { transient: isTransientStatus(error.statusCode) };
  return classifyAzureFailure(error.cause, [recognizeServiceBusError]) ?? { transient: true };
}
