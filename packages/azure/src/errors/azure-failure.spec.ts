import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from '@azure/identity';
import { ServiceBusError } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import { type AzureFailureRecognizer, classifyAzureFailure as classify } from './azure-failure.js';
import { recognizeServiceBusError } from './service-bus-failure.js';

/** As a service that uses Service Bus classifies. */
const classifyAzureFailure = (error: unknown, more: AzureFailureRecognizer[] = []) =>
  classify(error, [...more, recognizeServiceBusError]);

function answered(status: number, headers: Record<string, string> = {}, code?: string): RestError {
  const request = createPipelineRequest({ url: 'https://stintake.blob.core.windows.net/uploads' });
  return new RestError(`HTTP ${status}`, {
    statusCode: status,
    code,
    request,
    response: { status, headers: createHttpHeaders(headers), request },
  });
}

describe('classifyAzureFailure', () => {
  it.each([
    [
      'a request that never reached Azure',
      new RestError('ECONNREFUSED', { code: RestError.REQUEST_SEND_ERROR }),
    ],
    ['throttling', answered(429)],
    ['a busy service', answered(503, {}, 'ServerBusy')],
    ['a gateway timeout', answered(504)],
    ['Service Bus busy', new ServiceBusError('busy', 'ServiceBusy')],
    ['Service Bus out of reach', new ServiceBusError('ECONNRESET', 'ServiceCommunicationProblem')],
    ['Service Bus timing out', new ServiceBusError('slow', 'ServiceTimeout')],
    [
      'an overloaded token endpoint',
      new AuthenticationError(503, { error: 'temporarily_unavailable', error_description: '' }),
    ],
    [
      'an unreachable token endpoint',
      new AuthenticationRequiredError({
        scopes: ['x'],
        message: 'network',
        cause: Object.assign(new Error('fetch failed'), { errorCode: 'network_error' }),
      }),
    ],
  ])('%s is transient', (_case, error) => {
    expect(classifyAzureFailure(error)).toMatchObject({ transient: true });
  });

  it.each([
    ['a refused role', answered(403, {}, 'AuthorizationPermissionMismatch')],
    ['a missing blob', answered(404, {}, 'BlobNotFound')],
    ['a bad request', answered(400, {}, 'InvalidQueryParameterValue')],
    ['an unknown queue', new ServiceBusError('no queue', 'MessagingEntityNotFound')],
    ['a missing Service Bus role', new ServiceBusError('no', 'UnauthorizedAccess')],
    ['a lost lock', new ServiceBusError('lost', 'MessageLockLost')],
    [
      "Entra's refusal",
      new AuthenticationError(400, {
        error: 'invalid_client',
        error_description: 'AADSTS700213: no federated identity record',
      }),
    ],
    [
      'a credential the environment cannot build',
      new CredentialUnavailableError('no AZURE_FEDERATED_TOKEN_FILE'),
    ],
  ])('%s is not transient', (_case, error) => {
    expect(classifyAzureFailure(error)).toMatchObject({ transient: false });
  });

  it('branches on the typed fields, never on the message', () => {
    expect(classifyAzureFailure(answered(503))?.transient).toBe(true);
    const misleading = new RestError('AADSTS700213 Forbidden UnauthorizedAccess', {
      statusCode: 503,
    });
    expect(classifyAzureFailure(misleading)?.transient).toBe(true);
    const plain = Object.assign(new Error('503 Service Unavailable, try again'), {
      statusCode: 503,
      code: 'ServerBusy',
    });
    expect(classifyAzureFailure(plain)).toBeUndefined();
  });

  it('is undefined for what no Azure SDK threw', () => {
    expect(classifyAzureFailure(new TypeError('x is undefined'))).toBeUndefined();
    expect(classifyAzureFailure('boom')).toBeUndefined();
    expect(classifyAzureFailure(undefined)).toBeUndefined();
  });

  it("reads Azure's retry hint: x-ms-retry-after-ms first, then Retry-After seconds", () => {
    expect(
      classifyAzureFailure(answered(429, { 'x-ms-retry-after-ms': '1500', 'retry-after': '9' }))
        ?.retryAfterMs,
    ).toBe(1500);
    expect(classifyAzureFailure(answered(503, { 'retry-after': '7' }))?.retryAfterMs).toBe(7000);
    expect(
      classifyAzureFailure(answered(503, { 'retry-after': 'soon' }))?.retryAfterMs,
    ).toBeUndefined();
  });

  it('judges a retried operation by its last attempt', () => {
    const attempts = new AggregateError([answered(503), answered(403)], '');
    expect(classifyAzureFailure(attempts)?.transient).toBe(false);
    const chain = new AggregateAuthenticationError([
      new CredentialUnavailableError('no env'),
      new AuthenticationError(503, { error: 'temporarily_unavailable', error_description: '' }),
    ]);
    expect(classifyAzureFailure(chain)?.transient).toBe(true);
  });

  it("asks a service's own recognizers first", () => {
    const cosmos = Object.assign(new Error('throttled'), { kind: 'cosmos' });
    const recognize = (error: unknown) =>
      error === cosmos ? { transient: true, retryAfterMs: 20 } : undefined;
    expect(classifyAzureFailure(cosmos, [recognize])).toEqual({
      transient: true,
      retryAfterMs: 20,
    });
    expect(classifyAzureFailure(cosmos)).toBeUndefined();
  });

  it("knows Service Bus's errors only with its recognizer, so @wi/azure need not load that SDK", () => {
    const busy = new ServiceBusError('busy', 'ServiceBusy');
    expect(classify(busy)).toBeUndefined();
    expect(classify(busy, [recognizeServiceBusError])).toEqual({ transient: true });
  });
});
