import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalCloud } from '@wi/local-azure';
import {
  repoRoot,
  type RunningService,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';

export interface AttackStack {
  cloud: LocalCloud;
  backend: RunningService;
  frontend: RunningService;
  /** The local cloud's events (token exchanges, data-plane refusals), in order. */
  events: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** `pnpm dev`'s stack on free ports, with the local cloud's events recorded for counting. */
export async function startAttackStack(
  frontendEnv: Record<string, string> = {},
  backendEnv: Record<string, string> = {},
): Promise<AttackStack> {
  const events: Record<string, unknown>[] = [];
  const cloud = await startLocalCloud({ log: (event) => events.push(event) });
  const backend = await startService('backend', { ...cloud.env('backend'), ...backendEnv });
  const frontend = await startService('frontend', {
    ...cloud.env('frontend'),
    BACKEND_URL: backend.url,
    ...frontendEnv,
  });
  const stop = async () => {
    await Promise.all([frontend.stop(), backend.stop()]);
    await cloud.stop();
  };
  try {
    // Generous: the suites share two cores with whatever else runs.
    await waitForOk(`${backend.url}/healthz/ready`, backend, 90_000);
    await waitForOk(`${frontend.url}/healthz/ready`, frontend, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { cloud, backend, frontend, events, stop };
}

/** A refusal by a data plane or Entra: what a probe that must be denied produces. */
export function isDenial(event: Record<string, unknown>): boolean {
  const name = String(event.event ?? '');
  return (
    /forbidden|unauthorized|link-refused|cbs-rejected/.test(name) ||
    (name === 'token-exchange' && event.outcome === 'failure')
  );
}

/** Resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

/** The address a local TCP port is listening on, from /proc/net/tcp (IPv4) and tcp6. */
export function listeningAddresses(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local?.endsWith(`:${hex}`)) continue;
      const address = local.split(':')[0]!;
      found.push(
        address.length === 8
          ? address
              .match(/../g)!
              .reverse()
              .map((byte) => parseInt(byte, 16))
              .join('.')
          : address === '00000000000000000000000000000000'
            ? '::'
            : address === '00000000000000000000000001000000'
              ? '::1'
              : address,
      );
    }
  }
  return found;
}

/** What each attack measured, for the closing note: test-results/attacks/<suite>.json. */
const measured: Record<string, unknown> = {};
export function record(name: string, values: Record<string, unknown>): void {
  measured[name] = values;
  console.log(`attack ${name}: ${JSON.stringify(values)}`);
}
export async function writeMeasurements(suite: string): Promise<void> {
  const dir = join(repoRoot, 'test-results/attacks');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${suite}.json`), `${JSON.stringify(measured, null, 2)}\n`);
}
