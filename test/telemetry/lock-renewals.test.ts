import { afterAll, expect, it } from 'vitest';
import type { LocalCloud } from '@wi/local-azure';
import {
  type RunningService,
  poll,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';
import { recordCounts, seedDocuments } from '../support/seed.js';
import { OtlpReceiver, latest } from './support/otlp-receiver.js';

let cloud: LocalCloud | undefined;
let backend: RunningService | undefined;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await backend?.stop();
  await cloud?.stop();
  await receiver?.stop();
});

/** The message lock duration: the SDK renews a lock halfway through it. */
const LOCK_MS = 2_000;

/**
 * While Cosmos DB is down the worker retries in place and the SDK keeps renewing the message's
 * lock (2 s here): the lock renewal counter shows it, and the document is processed once after.
 */
it('counts the message lock renewals the SDK makes while the worker waits out an outage', async () => {
  receiver = await OtlpReceiver.start();
  cloud = await startLocalCloud({ queueLockDurationMs: LOCK_MS });
  backend = await startService('backend', { ...cloud.env('backend'), ...receiver.env() });
  await waitForOk(`${backend.url}/healthz/ready`, backend);

  await cloud.cosmos.suspend();
  const [id] = await seedDocuments(cloud, 1);
  // The outage lasts 1.5 locks from the worker's first failed attempt, so the message outlives
  // its first lock only by being renewed. It ends before the worker's fifth attempt, 3.75 s of
  // backoff after the first (250 ms, doubling): 4 s counted from the suspend could end just
  // after that attempt, and the document then waited out a further 4 s backoff.
  await poll(
    async () => (backend!.output.join('').includes('transient failure') ? true : undefined),
    10_000,
    20,
  );
  await new Promise((resolve) => setTimeout(resolve, 1.5 * LOCK_MS));
  await cloud.cosmos.resume();

  await poll(
    async () => ((await recordCounts(cloud!)).get(id!) === 1 ? true : undefined),
    30_000,
    100,
  );
  const renewals = await poll(
    async () => {
      const processed = latest(receiver!.points, 'backend', 'intake.documents.processed') ?? 0;
      const value = latest(receiver!.points, 'backend', 'intake.messages.lock_renewals', {
        outcome: 'success',
      });
      return processed >= 1 && value !== undefined ? value : undefined;
    },
    10_000,
    100,
  );
  expect(renewals).toBeGreaterThanOrEqual(2);
  expect(latest(receiver.points, 'backend', 'intake.documents.dead_lettered') ?? 0).toBe(0);
}, 60_000);
