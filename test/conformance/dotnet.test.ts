import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, startStack, type RunningStack } from '../support/local-stack.js';
import {
  buildConformance,
  runConformance,
  skipDotnetTests,
  type DotnetCheck,
} from './support/dotnet.js';

/**
 * A second SDK family against the local cloud: the .NET SDKs with DefaultAzureCredential and
 * only the variables the local cloud writes. The frontend's identity uploads a blob and sends a
 * `document.uploaded` that the TypeScript worker processes; the backend's identity then reads the
 * record and peeks the queue. Each plane's allowed and forbidden calls must get Azure's codes.
 */
describe.skipIf(skipDotnetTests)('.NET SDKs against the local cloud', { timeout: 420_000 }, () => {
  let stack: RunningStack;
  const results: DotnetCheck[] = [];

  beforeAll(async () => {
    // One after the other: on two cores a build beside the services' start-up can starve them.
    await buildConformance();
    stack = await startStack();
  }, 420_000);
  afterAll(async () => {
    const passed = results.filter((c) => c.ok).length;
    console.log(`.NET conformance: ${passed} of ${results.length} checks passed`);
    for (const c of results)
      console.log(`${c.ok ? '✓' : '✗'} ${c.check}: ${c.outcome} ${c.code ?? ''}`);
    await stack?.stop();
  });

  function expectAllPassed(checks: DotnetCheck[], stderr: string) {
    results.push(...checks);
    const failed = checks.filter((c) => !c.ok);
    expect(failed, `${JSON.stringify(failed, null, 1)}\n${stderr.slice(0, 2000)}`).toEqual([]);
  }

  let documentId = '';

  it("as the frontend: its allowed calls succeed, the others get Azure's codes, the worker processes its message", async () => {
    const { checks, stderr } = await runConformance('frontend', stack.cloud.env('frontend'));
    expect(checks.length).toBeGreaterThanOrEqual(10);
    expectAllPassed(checks, stderr);
    documentId = checks.find((c) => c.check === 'blob: upload to uploads')!.detail!;
    const record = await poll(async () => {
      const items = await stack.cloud.cosmos.items('intake', 'documents');
      return items.find((item) => item.id === documentId);
    }, 30_000);
    expect(record).toMatchObject({ id: documentId });
  });

  it("as the backend: reads the record the worker wrote and peeks the queue; the rest gets Azure's codes", async () => {
    expect(documentId).not.toBe('');
    const { checks, stderr } = await runConformance('backend', stack.cloud.env('backend'), [
      documentId,
    ]);
    expect(checks.length).toBeGreaterThanOrEqual(11);
    expectAllPassed(checks, stderr);
  });
});
