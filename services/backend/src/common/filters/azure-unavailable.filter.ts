import { ErrorResponse, TimeoutError } from '@azure/cosmos';
import { Catch } from '@nestjs/common';
import { AZURE_SDK_ERRORS, AzureFailureFilter } from '@wi/azure';
import { SERVICE_BUS_ERRORS } from '@wi/azure/service-bus';
import { classifyFailure } from '../errors/classify-failure.js';

/** Registered globally (app.module.ts): every Azure failure of every route is a 503, once. */
@Catch(...AZURE_SDK_ERRORS, ...SERVICE_BUS_ERRORS, ErrorResponse, TimeoutError)
export class AzureUnavailableFilter extends AzureFailureFilter {
  protected override classify(error: unknown) {
    return classifyFailure(error);
  }
}
