// The frontend's image under its Deployment's memory limit, hit with more large uploads at once
// than it will take: it must never be OOM-killed, answer each upload 202 or 503 (with
// Retry-After), and reuse the memory one burst leaves in the next. Without Docker the suite is skipped and
// listed; with CI=true it fails instead.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, startLocalCloud, waitForOk } from '../support/local-stack.js';
import {
  buildImagesOnce,
  docker$,
  type DockerCli,
  requireDocker,
  skipContainerTests,
  type StartedService,
  startServiceContainer,
} from './support.js';

const UPLOADS = 60;
const UPLOAD_BYTES = 10 * 1024 * 1024 - 4096; // just under MAX_UPLOAD_BYTES (10 MiB)
/**
 * What the frontend keeps after a burst is not all garbage it will give back: measured with the
 * cap, 56-96 MiB of anonymous memory stay above idle (8 runs; more when the uploads run faster),
 * flat from 1 s to 60 s after the load. It is freed memory that glibc's main heap keeps
 * (malloc_trim(0), called through gdb, gave 71 of 96 MiB back; MALLOC_MMAP_THRESHOLD_=65536, which
 * puts every socket read and upload block in an mmap of its own, changed nothing: +65/+59/+68 MiB
 * against +71/+65). So "gives the memory back" is checked as what matters to the pod: a second
 * burst reuses what the first left (a leak would add to it: the 8 accepted uploads' bodies alone
 * are 80 MiB per burst), and what is kept leaves the limit room for the next burst's peak. Six
 * bursts in a row kept 161, 162, 164, 181, 180, 180 MiB (a plateau, not a leak); in other runs the
 * second burst kept +1, +5 and +43 MiB over the first.
 */
const REUSE_MARGIN_MIB = 48;
/** What may stay after a burst: 60 % of the limit, so the ~100 MiB a burst adds still fits. */
const KEPT_FRACTION = 0.6;

/** k8s/base/frontend/deployment.yaml's resources.limits.memory, in bytes. */
function deploymentMemoryLimit(): number {
  const deployment = parse(
    readFileSync(join(repoRoot, 'k8s/base/frontend/deployment.yaml'), 'utf8'),
  ) as {
    spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } };
  };
  const limit = deployment.spec.template.spec.containers[0]!.resources.limits.memory;
  const match = /^(\d+)(Mi|Gi)$/.exec(limit);
  if (!match) throw new Error(`unexpected memory limit ${limit}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 ** 3 : 1024 ** 2);
}

/** POSTs `body` on a connection of its own; the answer's status, or the socket error. */
function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number | string; retryAfter?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(body.length), connection: 'close' },
        timeout: 300_000,
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
          }),
        );
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: `Error: ${error.code ?? error.message}` }),
    );
    request.end(body);
  });
}

/** The container's memory as its cgroup counts it, and two parts of that count, in MiB. */
interface CgroupMemory {
  /** memory.current (v2) or memory.usage_in_bytes (v1): what the OOM killer compares. */
  usage: number;
  /** Anonymous memory (v2 anon, v1 rss): the process's heaps, buffers and allocator arenas. */
  anon: number;
  /**
   * Page cache (v2 file, v1 cache): the files read. Charged to whichever cgroup first read a page,
   * so it depends on what ran before (0 or 29 MiB at idle in two runs back to back), and the
   * kernel reclaims it under pressure before it OOM-kills anything.
   */
  file: number;
}

const MiB = (bytes: number) => Math.round(bytes / 1024 / 1024);

function parseCgroupMemory(usage: string, statText: string): CgroupMemory {
  const stat = new Map(
    statText
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([key, value]) => [key!, Number(value)]),
  );
  return {
    usage: MiB(Number(usage.trim())),
    anon: MiB(stat.get('anon') ?? stat.get('total_rss') ?? 0),
    file: MiB(stat.get('file') ?? stat.get('total_cache') ?? 0),
  };
}

/** The container's cgroup directory as the host sees it (v1 or v2, cgroupfs or systemd driver). */
function hostCgroupDir(id: string): string | undefined {
  return [
    `/sys/fs/cgroup/memory/docker/${id}`,
    `/sys/fs/cgroup/docker/${id}`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
  ].find((dir) => existsSync(join(dir, 'memory.stat')));
}

/**
 * The container's cgroup memory, read from the host where it can see the cgroup: cheap enough to
 * sample every 100 ms, and nothing runs in the container to read it. Elsewhere a `docker exec`
 * reads it inside, where the second node it starts is counted too (about 9 MiB here, at idle and
 * after alike).
 */
async function cgroupMemory(cli: DockerCli, id: string): Promise<CgroupMemory> {
  const dir = hostCgroupDir(id);
  if (dir) {
    const usageFile = existsSync(join(dir, 'memory.current'))
      ? 'memory.current'
      : 'memory.usage_in_bytes';
    const [usage, stat] = await Promise.all([
      readFile(join(dir, usageFile), 'utf8'),
      readFile(join(dir, 'memory.stat'), 'utf8'),
    ]);
    return parseCgroupMemory(usage, stat);
  }
  const text = await docker$(
    cli,
    'exec',
    id,
    '/usr/local/bin/node',
    '-e',
    "const fs=require('fs');for(const [d,u] of [['/sys/fs/cgroup/','memory.current'],['/sys/fs/cgroup/memory/','memory.usage_in_bytes']]){try{console.log(JSON.stringify([fs.readFileSync(d+u,'utf8'),fs.readFileSync(d+'memory.stat','utf8')]));break}catch{}}",
  );
  const [usage, stat] = JSON.parse(text) as [string, string];
  return parseCgroupMemory(usage, stat);
}

describe.skipIf(skipContainerTests)('the frontend under its memory limit', () => {
  let cli: DockerCli;
  let cloud: LocalCloud;
  let frontend: StartedService;
  const limit = deploymentMemoryLimit();

  beforeAll(async () => {
    cli = requireDocker();
    // The local cloud needs no image: it starts while the images build (or are found built),
    // and is kept for afterAll to stop even when the build fails.
    const cloudStarted = startLocalCloud();
    try {
      await buildImagesOnce(cli);
    } finally {
      cloud = await cloudStarted;
    }
    // Uploads need Blob Storage and Service Bus only; the backend is not on their path.
    frontend = await startServiceContainer(
      cloud,
      'frontend',
      {
        BACKEND_URL: 'http://127.0.0.1:9',
        COOKIE_SECURE: 'false',
        // The load generator, the local cloud and the container share two cores here (with
        // whatever else runs), so 60 uploads take far longer than on a node: the header and
        // request timeouts (tested with the attacks) would cut some off with a 408 and a reset.
        // This test is about memory.
        HTTP_HEADERS_TIMEOUT_MS: '600000',
        HTTP_REQUEST_TIMEOUT_MS: '600000',
        HTTP_IDLE_TIMEOUT_MS: '600000',
      },
      { memoryLimitBytes: limit },
    );
    await waitForOk(`${frontend.url}/healthz/ready`).catch((error: Error) => {
      throw new Error(`${error.message}\n${frontend.logs.join('')}`);
    });
  }, 600_000);

  afterAll(async () => {
    await frontend?.container.stop();
    await cloud?.stop();
  }, 120_000);

  /** Memory once the process has settled: sampled until it stops falling for 2 s (at most 20 s). */
  async function settledMemory(id: string): Promise<CgroupMemory> {
    let settled = await cgroupMemory(cli, id);
    let lowest = settled.anon;
    let quietSince = Date.now();
    const deadline = Date.now() + 20_000;
    while (Date.now() - quietSince < 2_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      settled = await cgroupMemory(cli, id);
      if (settled.anon < lowest - 1) quietSince = Date.now();
      lowest = Math.min(lowest, settled.anon);
    }
    return settled;
  }

  it(`takes ${UPLOADS} concurrent 10 MiB uploads twice without an OOM kill, answers 202 or 503, and reuses the memory of the first burst in the second`, async () => {
    const id = frontend.container.getId();
    const page = await fetch(`${frontend.url}/`);
    const cookie = page.headers
      .getSetCookie()
      .find((c) => /csrf=/.test(c))!
      .split(';')[0]!;
    const token = /name="_csrf"\s+value="([^"]+)"/.exec(await page.text())![1]!;

    // One multipart body for all: a fresh connection per upload (no keep-alive reuse), so each
    // answer belongs to its own request.
    const form = new FormData();
    form.append('_csrf', token);
    form.append(
      'file',
      new Blob([new Uint8Array(UPLOAD_BYTES).fill(120)], { type: 'text/plain' }),
      'load.txt',
    );
    const encoded = new Response(form);
    const contentType = encoded.headers.get('content-type')!;
    const body = Buffer.from(await encoded.arrayBuffer());

    const idle = await cgroupMemory(cli, id);
    const limitMiB = limit / 1024 / 1024;
    const bursts: { peak: number; after: CgroupMemory }[] = [];
    for (let burst = 1; burst <= 2; burst++) {
      // The peak is judged on anonymous memory: the cgroup's usage also counts page cache (122 MiB
      // of it at idle in CI), which the kernel reclaims before it OOM-kills anything.
      let peak = 0;
      let peakUsage = 0;
      const sampler = setInterval(() => {
        void cgroupMemory(cli, id).then(
          (now) => {
            peak = Math.max(peak, now.anon);
            peakUsage = Math.max(peakUsage, now.usage);
          },
          () => undefined,
        );
      }, 100);
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: UPLOADS }, () =>
          post(`${frontend.url}/uploads`, body, {
            'content-type': contentType,
            accept: 'application/json',
            cookie,
          }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);

      const state = JSON.parse(
        await docker$(cli, 'inspect', '--format', '{{json .State}}', id),
      ) as { OOMKilled: boolean; Running: boolean; Restarting: boolean };
      // The process's own (anonymous) memory, not the cgroup's total: that also counts page
      // cache, which is no memory kept and varies with what ran before (files first read during
      // the load, such as the SDKs the frontend imports on its first upload, are charged here).
      const after = await settledMemory(id);
      const counts: Record<string, number> = {};
      for (const { status } of results) counts[status] = (counts[status] ?? 0) + 1;
      console.log(
        `burst ${burst}: memory limit ${limitMiB} MiB, ${UPLOADS} concurrent 10 MiB uploads in ${seconds.toFixed(1)} s: ` +
          `${JSON.stringify(counts)}; cgroup memory idle ${JSON.stringify(idle)} MiB, peak ${peak} MiB anon (${peakUsage} MiB with page cache), ` +
          `after ${JSON.stringify(after)} MiB; OOM-killed: ${state.OOMKilled}`,
      );

      expect(state.OOMKilled).toBe(false);
      expect(state.Running).toBe(true);
      expect(
        Object.keys(counts).every((status) => status === '202' || status === '503'),
        JSON.stringify(counts),
      ).toBe(true);
      expect(counts['202'] ?? 0).toBeGreaterThan(0);
      for (const refused of results.filter((r) => r.status === 503))
        expect(refused.retryAfter).toBe('5');
      expect(peak).toBeLessThan(limitMiB * 0.8);
      expect(after.anon).toBeLessThanOrEqual(limitMiB * KEPT_FRACTION);
      bursts.push({ peak, after });
    }
    expect(bursts[1]!.after.anon).toBeLessThanOrEqual(bursts[0]!.after.anon + REUSE_MARGIN_MIB);
    await waitForOk(`${frontend.url}/healthz/ready`);
  }, 300_000);
});
