import { execFileSync } from 'node:child_process';
import { type KubernetesObject, parseManifests } from './manifests.js';

/** kustomize as shipped in kubectl 1.30 (v5.3+) is the oldest whose replacements we rely on. */
export const MIN_KUBECTL_MINOR = 30;

export interface Kubectl {
  path: string;
  major: number;
  minor: number;
  gitVersion: string;
}

export class KubectlError extends Error {
  override name = 'KubectlError';
}

/** The kubectl on PATH (or at $KUBECTL), or undefined when there is none. */
export function findKubectl(path = process.env.KUBECTL || 'kubectl'): Kubectl | undefined {
  let output: string;
  try {
    output = execFileSync(path, ['version', '--client', '--output=json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KubectlError(`${path} version failed: ${(error as Error).message}`);
  }
  const { clientVersion } = JSON.parse(output) as {
    clientVersion: { major: string; minor: string; gitVersion: string };
  };
  return {
    path,
    // Some builds report minor as "32+".
    major: Number.parseInt(clientVersion.major, 10),
    minor: Number.parseInt(clientVersion.minor, 10),
    gitVersion: clientVersion.gitVersion,
  };
}

/** Fails (never skips) on a kubectl too old for the manifests. */
export function assertSupported(kubectl: Kubectl): void {
  if (kubectl.major < 1 || (kubectl.major === 1 && kubectl.minor < MIN_KUBECTL_MINOR)) {
    throw new KubectlError(
      `kubectl ${kubectl.gitVersion} is too old: the manifests need kubectl >= 1.${MIN_KUBECTL_MINOR}`,
    );
  }
}

/** `kubectl kustomize <dir>`, parsed; kustomize's own message on failure. */
export function kustomize(kubectl: Kubectl, dir: string): KubernetesObject[] {
  let output: string;
  try {
    output = execFileSync(kubectl.path, ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new KubectlError(
      `kubectl kustomize ${dir} failed: ${stderr || (error as Error).message}`,
    );
  }
  return parseManifests(output, `kubectl kustomize ${dir}`);
}
