import { Inject, Injectable } from '@nestjs/common';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

/**
 * How many uploads this pod streams at once (MAX_CONCURRENT_UPLOADS). Each one holds a few MiB
 * of blocks and buffers until Blob Storage has them; unbounded, 60 concurrent 10 MiB uploads took
 * a pod from 183 to 364 MB, next to its 384 MiB limit. Beyond the cap an upload is refused at once
 * (503 with Retry-After) instead of queued: a queue would hold the bytes too.
 */
@Injectable()
export class UploadSlots {
  private inUse = 0;

  constructor(@Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig) {}

  /** A release function, or undefined when every slot is taken. Release exactly once. */
  tryAcquire(): (() => void) | undefined {
    if (this.inUse >= this.config.maxConcurrentUploads) return undefined;
    this.inUse += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= 1;
    };
  }

  get active(): number {
    return this.inUse;
  }
}
