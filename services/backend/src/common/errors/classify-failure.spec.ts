import { ErrorResponse, TimeoutError } from '@azure/cosmos';
import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from './classify-failure.js';

function cosmos(status: number, retryAfterInMs?: number): ErrorResponse {
  return Object.assign(new ErrorResponse(`HTTP ${status}`), { code: status, retryAfterInMs });
}

describe("the backend's classifyFailure", () => {
  it.each([
    [
      'throttled (429), with its own retry-after',
      cosmos(429, 800),
      { transient: true, retryAfterMs: 800 },
    ],
    ['unavailable (503)', cosmos(503), { transient: true }],
    ['retry-with (449)', cosmos(449), { transient: true }],
    ['a request timeout', new TimeoutError(), { transient: true }],
    ['a refused role (403)', cosmos(403), { transient: false }],
    ['a missing container (404)', cosmos(404), { transient: false }],
  ])('knows a Cosmos DB failure: %s', (_case, error, expected) => {
    expect(classifyFailure(error)).toMatchObject(expected);
  });

  it("still knows the other SDKs' errors, and nothing else", () => {
    expect(classifyFailure(new RestError('down', { code: 'REQUEST_SEND_ERROR' }))?.transient).toBe(
      true,
    );
    expect(
      classifyFailure(Object.assign(new Error('Request rate is large'), { code: 429 })),
    ).toBeUndefined();
  });
});
