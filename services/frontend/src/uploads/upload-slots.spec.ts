import { describe, expect, it } from 'vitest';
import type { FrontendConfig } from '../config/frontend-config.js';
import { UploadSlots } from './upload-slots.js';

describe('UploadSlots', () => {
  it('hands out at most the configured number, and a release frees exactly one', () => {
    const slots = new UploadSlots({ maxConcurrentUploads: 2 } as FrontendConfig);
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    expect(a && b).toBeTruthy();
    expect(slots.tryAcquire()).toBeUndefined();
    a!();
    a!();
    expect(slots.active).toBe(1);
    expect(slots.tryAcquire()).toBeDefined();
    expect(slots.tryAcquire()).toBeUndefined();
  });
});
