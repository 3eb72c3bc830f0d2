import { describe, expect, it } from 'vitest';
import { describeAzureError } from './describe-azure-error.js';

describe('describeAzureError', () => {
  it('puts the AADSTS code first', () => {
    const error = new Error(
      'WorkloadIdentityCredential: Authentication failed.\nAADSTS700213: No matching federated identity record found for presented assertion subject',
    );
    expect(describeAzureError(error)).toBe(
      'AADSTS700213: WorkloadIdentityCredential: Authentication failed.',
    );
  });

  it('uses the typed code and status of REST errors', () => {
    const error = Object.assign(
      new Error('This request is not authorized to perform this operation using this permission.'),
      {
        code: 'AuthorizationPermissionMismatch',
        statusCode: 403,
      },
    );
    expect(describeAzureError(error)).toBe(
      'AuthorizationPermissionMismatch HTTP 403: This request is not authorized to perform this operation using this permission.',
    );
  });

  it("reads Entra's code from the credential's typed error_codes", () => {
    const error = Object.assign(new Error('invalid_client Status code: 400'), {
      statusCode: 400,
      errorResponse: {
        error: 'invalid_client',
        errorDescription: 'no match',
        errorCodes: [700213],
      },
    });
    expect(describeAzureError(error)).toBe(
      'AADSTS700213 HTTP 400: invalid_client Status code: 400',
    );
  });

  it("gives Cosmos DB's numeric code as the HTTP status", () => {
    const error = Object.assign(new Error('Request blocked by Auth'), { code: 403 });
    expect(describeAzureError(error)).toBe('HTTP 403: Request blocked by Auth');
  });

  it('keeps plain errors readable', () => {
    expect(describeAzureError(new Error('connect ECONNREFUSED 127.0.0.1:5671'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:5671',
    );
    expect(describeAzureError('boom')).toBe('boom');
  });
});

describe('describeAzureError with retried operations', () => {
  it("reports the last attempt of the SDK's AggregateError", () => {
    const attempt = (n: number) =>
      Object.assign(new Error(`Unauthorized access, attempt ${n}`), { code: 'UnauthorizedAccess' });
    expect(describeAzureError(new AggregateError([attempt(1), attempt(2)], ''))).toBe(
      'UnauthorizedAccess: Unauthorized access, attempt 2',
    );
  });
});
