// The frontend's image under its Deployment's memory limit, hit with more large uploads at once
// than it will take: it must never be OOM-killed, answer each upload 202 or 503 (with
// Retry-After), and give its memory back afterwards. Without Docker the suite is skipped and
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
 * "Near idle": within this much of the idle container's anonymous memory (V8's young generation
 * and allocator arenas keep some of what they grew); unbounded, 60 uploads left ~180 MB above
 * idle. Measured with the cap: 56-96 MiB stay (8 runs; more when the uploads run faster), flat
 * from 1 s to 60 s after the load: freed memory glibc's main heap keeps (malloc_trim(0), called
 * through gdb, gave 71 of 96 MiB back; MALLOC_MMAP_THRESHOLD_ changes nothing). Until the image
 * returns it, this check fails in the runs that keep more than NEAR_IDLE_MIB.
 */
const NEAR_IDLE_MIB = 80;

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

  it(`takes ${UPLOADS} concurrent 10 MiB uploads without an OOM kill, answers 202 or 503, and gives the memory back`, async () => {
    const id = frontend.container.getId();
    const page = await fetch(`${frontend.url}/`);
    const cookie = page.headers
      .getSetCookie()
      .find((c) => /csrf=/.test(c))!
      .split(';')[0]!;
    const token = /name="_csrf"\s+value="([^"]+)"/.exec(await page.text())![1]!;
    const idle = await cgroupMemory(cli, id);
    let peak = idle.usage;
    const sampler = setInterval(() => {
      void cgroupMemory(cli, id).then(
        (now) => (peak = Math.max(peak, now.usage)),
        () => undefined,
      );
    }, 100);

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

    const state = JSON.parse(await docker$(cli, 'inspect', '--format', '{{json .State}}', id)) as {
      OOMKilled: boolean;
      Running: boolean;
      Restarting: boolean;
    };
    // Memory after the load: V8 returns freed pages once it is idle for a while (its memory
    // reducer), so wait up to a minute for the process's own (anonymous) memory to come back near
    // idle. Not the cgroup's total: that also counts page cache, which is no memory kept and
    // varies with what ran before (files first read during the load, such as the SDKs the
    // frontend imports on its first upload from freshly built image layers, are charged here).
    let after = await cgroupMemory(cli, id);
    const settle = Date.now() + 60_000;
    while (after.anon > idle.anon + NEAR_IDLE_MIB && Date.now() < settle) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await cgroupMemory(cli, id);
    }
    const counts: Record<string, number> = {};
    for (const { status } of results) counts[status] = (counts[status] ?? 0) + 1;
    console.log(
      `memory limit ${limit / 1024 / 1024} MiB, ${UPLOADS} concurrent 10 MiB uploads in ${seconds.toFixed(1)} s: ` +
        `${JSON.stringify(counts)}; cgroup memory idle ${JSON.stringify(idle)} MiB, peak ${peak} MiB, ` +
        `after ${JSON.stringify(after)} MiB; ` +
        `OOM-killed: ${state.OOMKilled}`,
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
    expect(peak).toBeLessThan((limit / 1024 / 1024) * 0.8);
    expect(after.anon).toBeLessThanOrEqual(idle.anon + NEAR_IDLE_MIB);
    await waitForOk(`${frontend.url}/healthz/ready`);
  }, 300_000);
});
