import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvFile } from './env-file.js';
import { type Kubectl, kustomize } from './kubectl.js';
import type { KubernetesObject } from './manifests.js';

export interface OverlayDefinition {
  /** The env file the overlay's configMapGenerator reads (k8s/overlays/<name>/<envFile>). */
  envFile: string;
  /** A committed stand-in with fake values, for an env file that is generated and git-ignored. */
  example?: string;
}

export const OVERLAYS = {
  aks: { envFile: 'azure.env', example: 'azure.env.example' },
  local: { envFile: 'local.env' },
} as const satisfies Record<string, OverlayDefinition>;

export type OverlayName = keyof typeof OVERLAYS;

export interface RenderedOverlay {
  overlay: OverlayName;
  objects: KubernetesObject[];
  /** The env file the values came from, and its contents (the Bicep outputs). */
  envFile: string;
  outputs: Record<string, string>;
}

export interface RenderOverlayOptions {
  /** The k8s/ folder. */
  k8sDir: string;
  overlay: OverlayName;
  /**
   * Render with this env file in place of the overlay's own, in a temporary copy of k8s/ so the
   * working tree is never written to (tests and `check:wiring` use the committed example).
   */
  envFile?: string;
}

export function renderOverlay(kubectl: Kubectl, options: RenderOverlayOptions): RenderedOverlay {
  const { k8sDir, overlay } = options;
  const ownEnvFile = join(k8sDir, 'overlays', overlay, OVERLAYS[overlay].envFile);
  if (!options.envFile) {
    return {
      overlay,
      objects: kustomize(kubectl, join(k8sDir, 'overlays', overlay)),
      envFile: ownEnvFile,
      outputs: existsSync(ownEnvFile) ? readEnvFile(ownEnvFile) : {},
    };
  }
  const copy = mkdtempSync(join(tmpdir(), 'k8s-render-'));
  try {
    cpSync(k8sDir, copy, { recursive: true });
    cpSync(options.envFile, join(copy, 'overlays', overlay, OVERLAYS[overlay].envFile));
    return {
      overlay,
      objects: kustomize(kubectl, join(copy, 'overlays', overlay)),
      envFile: options.envFile,
      outputs: readEnvFile(options.envFile),
    };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
