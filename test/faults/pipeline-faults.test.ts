import { describe, it, type TestContext } from 'vitest';
import {
  poll,
  type RunningService,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';
import { recordCounts, seedDocuments } from '../support/seed.js';
import { backendAuthorization } from '../support/backend-token.js';

/** A case's own local cloud, with the backends it starts: all stopped when the case ends. */
async function startCase(
  onTestFinished: TestContext['onTestFinished'],
  options: Parameters<typeof startLocalCloud>[0] = {},
) {
  const cloud = await startLocalCloud(options);
  const services: RunningService[] = [];
  onTestFinished(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop('SIGKILL')));
    await cloud.stop();
  });

  async function backend(env: Record<string, string> = {}): Promise<RunningService> {
    const service = await startService('backend', { ...cloud.env('backend'), ...env });
    services.push(service);
    await waitForOk(`${service.url}/healthz/live`, service);
    return service;
  }

  async function allProcessed(ids: string[], timeoutMs: number): Promise<Map<string, number>> {
    return poll(
      async () => {
        const counts = await recordCounts(cloud);
        return ids.every((id) => counts.has(id)) ? counts : undefined;
      },
      timeoutMs,
      250,
    );
  }

  return { cloud, backend, allProcessed };
}

/**
 * The worker is the one place a document could be lost or written twice. These tests break it
 * on purpose under load and count: every seeded document must end up as exactly one record.
 * The cases run one after another: run at once they were no faster on a loaded machine (their
 * local clouds all live in this process, on one event loop, and processing documents is most of
 * each case) and the SIGTERM case timed out.
 */
describe('the intake pipeline under faults loses nothing', () => {
  it('kill -9 of the worker in the middle of 1000 documents: after a restart every one is processed exactly once', async ({
    expect,
    onTestFinished,
  }) => {
    // Messages the killed worker held stay locked until the lock expires, as on Azure (60 s
    // there); a 5 s lock keeps the test short.
    const { cloud, backend, allProcessed } = await startCase(onTestFinished, {
      queueLockDurationMs: 5_000,
    });
    // The worker starts while the documents are seeded: their messages are sent at the end.
    // 1000 stays: the kill lands in a bulk load, and the restarted worker must process 800 fresh
    // messages around the killed one's, which come back only as their locks expire.
    const [ids, first] = await Promise.all([seedDocuments(cloud, 1000), backend()]);
    await poll(
      async () => ((await recordCounts(cloud)).size >= 200 ? true : undefined),
      30_000,
      50,
    );
    const before = (await recordCounts(cloud)).size;
    first.process.kill('SIGKILL');
    await first.stop();
    console.log(`killed the worker after ${before} of ${ids.length} records`);
    expect(before).toBeLessThan(ids.length);

    await backend();
    const counts = await allProcessed(ids, 60_000);
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    const stats = cloud.serviceBus.stats('documents');
    console.log(
      `records: ${counts.size}, duplicates: ${duplicates}, queue: ${JSON.stringify(stats)}`,
    );
    expect(counts.size).toBe(ids.length);
    expect(duplicates).toBe(0);
    expect(cloud.serviceBus.deadLetters('documents')).toEqual([]);
  }, 180_000);

  it('SIGTERM during load: the worker drains and exits cleanly; the rest is processed after a restart', async ({
    expect,
    onTestFinished,
  }) => {
    const { cloud, backend, allProcessed } = await startCase(onTestFinished);
    // 150 documents: 50 processed before the signal, the worker's 8 in hand when it comes (they
    // must drain) and the rest behind them for the restart; more would only add documents
    // processed the normal way.
    const [ids, first] = await Promise.all([seedDocuments(cloud, 150), backend()]);
    await poll(async () => ((await recordCounts(cloud)).size >= 50 ? true : undefined), 30_000, 20);
    const signalled = performance.now();
    const exitCode = await first.stop('SIGTERM');
    const seconds = ((performance.now() - signalled) / 1000).toFixed(1);
    const drained = first.output.join('').includes('"drained":true');
    console.log(
      `SIGTERM: exited in ${seconds} s (code ${exitCode}, signal ${first.process.signalCode}), drained=${drained}, records so far ${(await recordCounts(cloud)).size}`,
    );
    // Nest re-raises the signal after its shutdown hooks: exit by SIGTERM (143 in Kubernetes) is clean.
    expect(exitCode === 0 || first.process.signalCode === 'SIGTERM').toBe(true);
    expect(drained).toBe(true);

    await backend();
    const counts = await allProcessed(ids, 60_000);
    expect(counts.size).toBe(ids.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it('a rotated signing key signs new records while records of the old version still verify', async ({
    expect,
    onTestFinished,
  }) => {
    const { cloud, backend, allProcessed } = await startCase(onTestFinished);
    const service = await backend({ SIGNING_KEY_REFRESH_SECONDS: '1' });
    const [oldId] = await seedDocuments(cloud, 1);
    await allProcessed([oldId!], 10_000);
    const { version: newVersion } = await cloud.keyVault.setSecret(
      'backend-signing-key',
      'rotated-key-value-0123456789',
    );
    await poll(
      async () => (service.output.join('').includes('rotated') ? true : undefined),
      10_000,
      100,
    );
    const [newId] = await seedDocuments(cloud, 1);
    await allProcessed([newId!], 10_000);

    const read = async (id: string) =>
      // The backend's API answers only the frontend's token.
      (await (
        await fetch(`${service.url}/documents/${id}`, {
          headers: await backendAuthorization(cloud),
        })
      ).json()) as {
        signatureKeyVersion: string;
        signatureValid: boolean;
      };
    const oldRecord = await read(oldId!);
    const newRecord = await read(newId!);
    expect(newRecord.signatureKeyVersion).toBe(newVersion);
    expect(oldRecord.signatureKeyVersion).not.toBe(newVersion);
    expect(oldRecord.signatureValid).toBe(true);
    expect(newRecord.signatureValid).toBe(true);
  });
});
