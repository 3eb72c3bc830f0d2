import { describe, expect, it } from 'vitest';
import { crossOriginReason } from './same-origin.guard.js';

const at = (headers: Record<string, string>) => ({
  headers: { host: 'intake.example', ...headers },
});

describe('crossOriginReason', () => {
  it.each([
    ['a same-origin fetch', { 'sec-fetch-site': 'same-origin', origin: 'https://intake.example' }],
    ['a navigation the user started', { 'sec-fetch-site': 'none' }],
    ['an Origin of this host (older browsers)', { origin: 'https://intake.example' }],
    ['a client that is no browser', {}],
  ])('lets through %s', (_case, headers) => {
    expect(crossOriginReason(at(headers))).toBeUndefined();
  });

  it.each([
    ['another site', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }],
    ['another Origin without Sec-Fetch-Site', { origin: 'https://evil.example' }],
    ['an opaque Origin (sandboxed frame, data: URL)', { origin: 'null' }],
    ['a lookalike host', { origin: 'https://intake.example.evil.example' }],
  ])('refuses %s', (_case, headers) => {
    expect(crossOriginReason(at(headers))).toBeDefined();
  });
});
