// Load and slowness as an attacker uses them: many large uploads at once, headers and bodies
// trickled, idle connections; and where the services listen at all.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, type RunningService, startService, waitForOk } from '../support/local-stack.js';
import {
  type AttackStack,
  listeningAddresses,
  record,
  rssMb,
  startAttackStack,
  writeMeasurements,
} from './support.js';

// Each attack waits on real processes (uploads processed, timeouts run out): generous per test.
vi.setConfig({ testTimeout: 90_000 });

const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 4_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;

let stack: AttackStack;
/** A second frontend on the same cloud, with short timeouts so the trickle attacks end soon. */
let impatient: RunningService;
let page: { cookie: string; token: string };

beforeAll(async () => {
  stack = await startAttackStack();
  impatient = await startService('frontend', {
    ...stack.cloud.env('frontend'),
    BACKEND_URL: stack.backend.url,
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
  });
  await waitForOk(`${impatient.url}/healthz/ready`, impatient, 90_000);
  const response = await fetch(`${stack.frontend.url}/`);
  const setCookie = response.headers.getSetCookie().find((c) => /csrf=/.test(c))!;
  const token = /name="_csrf"\s+value="([^"]+)"/.exec(await response.text())![1]!;
  page = { cookie: setCookie.split(';')[0]!, token };
}, 180_000);
afterAll(async () => {
  await writeMeasurements('bounded-resources');
  await impatient?.stop();
  await stack?.stop();
});

/** Opens a raw connection, sends `first`, then one byte of `drip` every interval; resolves with
 * how long the server kept the connection open (capped at `giveUpMs`). */
function trickle(first: string, drip: string, intervalMs: number, giveUpMs: number) {
  const { port } = new URL(impatient.url);
  return new Promise<{ openMs: number; answer: string }>((resolve) => {
    const started = performance.now();
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(first));
    let i = 0;
    const timer = setInterval(() => {
      if (performance.now() - started > giveUpMs) return finish();
      if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
    }, intervalMs);
    const finish = () => {
      clearInterval(timer);
      socket.destroy();
      resolve({
        openMs: Math.round(performance.now() - started),
        answer: answer.split('\r\n')[0]!,
      });
    };
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

// Each trickle holds a connection of its own to the impatient frontend and mostly waits for its
// timeout to run out: the three wait side by side (each with its context's expect).
describe.concurrent('server timeouts', () => {
  it('closes a connection whose headers trickle in', async ({ expect }) => {
    const { openMs, answer } = await trickle(
      'GET / HTTP/1.1\r\nHost: x\r\n',
      'X-Slow: a\r\n',
      200,
      15_000,
    );
    expect(openMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2_500);
    record('headers trickled', {
      before: { openAfterMs: 30_000 },
      after: { closedAfterMs: openMs, answer, headersTimeoutMs: HEADERS_TIMEOUT_MS },
    });
  });

  it('closes a request whose body trickles in', async ({ expect }) => {
    const head =
      `POST /uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
      `Content-Length: 1000000\r\nCookie: ${page.cookie}\r\n\r\n--b\r\n`;
    const { openMs, answer } = await trickle(head, 'abcdefgh', 200, 15_000);
    expect(openMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
    record('body trickled', {
      before: { openAfterMs: 29_000 },
      after: { closedAfterMs: openMs, answer, requestTimeoutMs: REQUEST_TIMEOUT_MS },
    });
  });

  it('closes an idle keep-alive connection', async ({ expect }) => {
    const { openMs } = await trickle(
      'GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n',
      '',
      100_000,
      15_000,
    );
    expect(openMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 2_000);
    record('idle keep-alive', {
      after: { closedAfterMs: openMs, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS },
    });
  });
});

describe('concurrent uploads are capped per pod', () => {
  it('answers 20 concurrent 10 MiB uploads with 202 or 503 + Retry-After only', async () => {
    const content = new Uint8Array(10 * 1024 * 1024 - 1024).fill(97);
    const idle = rssMb(stack.frontend.process.pid!);
    let peak = idle;
    const sampler = setInterval(
      () => (peak = Math.max(peak, rssMb(stack.frontend.process.pid!))),
      50,
    );
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const body = new FormData();
        body.append('_csrf', page.token);
        body.append('file', new Blob([content], { type: 'text/plain' }), `big-${i}.txt`);
        const response = await fetch(`${stack.frontend.url}/uploads`, {
          method: 'POST',
          body,
          headers: { accept: 'application/json', cookie: page.cookie },
          signal: AbortSignal.timeout(60_000),
        });
        await response.arrayBuffer();
        return { status: response.status, retryAfter: response.headers.get('retry-after') };
      }),
    );
    clearInterval(sampler);
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 202 || s === 503),
      JSON.stringify(statuses),
    ).toBe(true);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(0);
    for (const refused of results.filter((r) => r.status === 503))
      expect(refused.retryAfter).toBe('5');
    const counts = Object.fromEntries(
      [...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    record('20 concurrent 10 MiB uploads (host process, no memory limit)', {
      before: { accepted: 20, rssMb: { idle: 183, after: 267 } },
      after: { statuses: counts, rssMb: { idle, peak, after: rssMb(stack.frontend.process.pid!) } },
    });
  }, 120_000);
});

describe('dev and compose listen on loopback unless asked', () => {
  it('both services, started as `pnpm dev` starts them, listen on 127.0.0.1 only', () => {
    for (const service of [stack.frontend, stack.backend]) {
      const addresses = listeningAddresses(Number(new URL(service.url).port));
      expect(addresses, service.name).toEqual(['127.0.0.1']);
    }
    record('listen address under pnpm dev', { before: '0.0.0.0', after: '127.0.0.1' });
  });

  it('compose publishes on the host’s loopback; the Deployments ask for 0.0.0.0 explicitly', () => {
    const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { ports?: string[] }>;
    };
    const ports = Object.entries(compose.services)
      .filter(([name]) => ['local-cloud', 'frontend', 'backend'].includes(name))
      .flatMap(([, service]) => service.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^\$\{BIND_ADDRESS:-127\.0\.0\.1\}:/);
    for (const service of ['frontend', 'backend']) {
      const deployment = parse(
        readFileSync(join(repoRoot, `k8s/base/${service}/deployment.yaml`), 'utf8'),
      ) as {
        spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
      };
      const env = deployment.spec.template.spec.containers[0]!.env;
      expect(env.find((e) => e.name === 'HOST')?.value, service).toBe('0.0.0.0');
    }
  });
});
