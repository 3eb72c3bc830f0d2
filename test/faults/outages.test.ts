import type { LocalCloud } from '@wi/local-azure';
import { describe, it } from 'vitest';
import { poll, startLocalCloud, startService, waitForOk } from '../support/local-stack.js';
import { recordCounts, seedDocuments } from '../support/seed.js';

/**
 * Three message lock durations, as 30 s was against a 10 s lock: the worker's messages must
 * have their locks renewed through the outage, and its retries back off to their 5 s ceiling
 * (250 ms doubling) and keep trying, so every part of riding out an outage is exercised, in
 * 12 s rather than 30 s of waiting.
 */
const LOCK_MS = 4_000;
const OUTAGE_MS = 3 * LOCK_MS;
const DOCUMENTS = 100;

/**
 * Each emulator goes down for three lock durations while the backend works through a backlog:
 * readiness must say so, the worker must wait it out (retrying with backoff, not
 * dead-lettering), and once the resource is back every document must end up as exactly one
 * record.
 */
describe.concurrent(
  `a ${OUTAGE_MS / 1000} s outage of one resource under load loses nothing`,
  () => {
    const resources = {
      'Service Bus': (c: LocalCloud) => c.serviceBus,
      'Cosmos DB': (c: LocalCloud) => c.cosmos,
      'Key Vault': (c: LocalCloud) => c.keyVault,
    } as const;

    // The three cases run at once: each has its own local cloud and backend on free ports, and
    // most of each case is the outage itself, time the others can use. `expect` is the case's own.
    it.for(Object.keys(resources) as (keyof typeof resources)[])(
      '%s',
      { timeout: 180_000 },
      async (name, { expect, onTestFinished }) => {
        const cloud = await startLocalCloud({ queueLockDurationMs: LOCK_MS });
        // The backend starts while the backlog is seeded: the messages are all sent at the end of
        // seeding, so it finds the whole backlog waiting. 100 documents: 20 are processed before
        // the outage, the worker holds 4 when it starts, and the rest wait behind it, so the
        // outage hits a worker under load and every kind of message (done, in hand, waiting)
        // must come out as one record; more would only add documents processed the normal way.
        const starting = startService('backend', {
          ...cloud.env('backend'),
          WORKER_MAX_CONCURRENCY: '4',
        });
        onTestFinished(async () => {
          await (await starting.catch(() => undefined))?.stop('SIGKILL');
          await cloud.stop();
        });
        const [ids, backend] = await Promise.all([seedDocuments(cloud, DOCUMENTS), starting]);
        await waitForOk(`${backend.url}/healthz/ready`, backend);
        await poll(
          async () => ((await recordCounts(cloud)).size >= 20 ? true : undefined),
          30_000,
          20,
        );

        const resource = resources[name](cloud);
        await resource.suspend();
        const down = performance.now();
        // Readiness reports the outage (its probe results are cached for 2 s).
        const notReady = await poll(
          async () => {
            const response = await fetch(`${backend.url}/healthz/ready`);
            return response.status === 503 ? await response.text() : undefined;
          },
          15_000,
          250,
        );
        // The outage lasts its full length: that is what the locks and the retries must ride out.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, OUTAGE_MS - (performance.now() - down))),
        );
        const duringOutage = (await recordCounts(cloud)).size;
        await resource.resume();
        const up = performance.now();

        await waitForOk(`${backend.url}/healthz/ready`, backend, 60_000);
        const counts = await poll(
          async () => {
            const current = await recordCounts(cloud);
            return ids.every((id) => current.has(id)) ? current : undefined;
          },
          90_000,
          250,
        );
        const deadLettered = cloud.serviceBus.deadLetters('documents').length;
        console.log(
          `${name} down ${OUTAGE_MS / 1000} s: not ready (${/"status":"down"/.test(notReady) ? 'probe down' : notReady.slice(0, 80)}), ${duringOutage} records when it came back, ${counts.size}/${ids.length} after (${((performance.now() - up) / 1000).toFixed(1)} s later), ${deadLettered} dead-lettered`,
        );
        expect(counts.size).toBe(ids.length);
        expect([...counts.values()].every((n) => n === 1)).toBe(true);
        expect(deadLettered).toBe(0);
      },
    );
  },
);
