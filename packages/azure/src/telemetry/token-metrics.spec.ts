import { describe, expect, it } from 'vitest';
import { audienceOf, errorTypeOf } from './token-metrics.js';

describe('token metrics attributes', () => {
  it('reduces a scope to its resource: one value per audience, whatever the SDK asked', () => {
    expect(audienceOf('https://vault.azure.net/.default')).toBe('https://vault.azure.net');
    expect(audienceOf(['https://servicebus.azure.net//.default'])).toBe(
      'https://servicebus.azure.net',
    );
    expect(audienceOf('https://monitor.azure.com//.default')).toBe('https://monitor.azure.com');
  });

  it('records the Entra error code or the error class, never the message', () => {
    expect(
      errorTypeOf(new Error('AADSTS700213: No matching federated identity record found for sub')),
    ).toBe('AADSTS700213');
    expect(errorTypeOf(new TypeError('fetch failed'))).toBe('TypeError');
  });
});
