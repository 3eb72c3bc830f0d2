import { describe, expect, it } from 'vitest';
import { startOrder } from './start-order.js';

const call = (service: string) => ({ service, appRole: 'Read' });

describe('startOrder', () => {
  it('puts each callee before its callers and keeps the file order otherwise', () => {
    const services = [
      { service: 'frontend', calls: [call('backend')] },
      { service: 'backend' },
      { service: 'reports', calls: [call('backend')] },
    ];
    expect(startOrder(services).map((s) => s.service)).toEqual(['backend', 'frontend', 'reports']);
  });

  it('refuses a loop of calls, naming it', () => {
    const services = [
      { service: 'a', calls: [call('b')] },
      { service: 'b', calls: [call('a')] },
    ];
    expect(() => startOrder(services)).toThrow("the declaration's calls loop: a → b → a");
  });
});
