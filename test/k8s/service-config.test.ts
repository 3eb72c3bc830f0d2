import { loadAzureConfig } from '@wi/azure';
import {
  CLIENT_ID_ANNOTATION,
  type KubernetesObject,
  type RenderedOverlay,
  TENANT_ID_ANNOTATION,
} from '@wi/wiring';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackendConfig } from '../../services/backend/src/config/backend-config.js';
import { loadFrontendConfig } from '../../services/frontend/src/config/frontend-config.js';
import { container, get, renderOverlays, skipKubectlTests } from './support/k8s.js';

/** The resources each service asks AzureModule for (services/<name>/src/app.module.ts). */
const SERVICES = [
  {
    name: 'frontend',
    resources: ['keyVault', 'blob', 'serviceBus'] as const,
    load: loadFrontendConfig,
  },
  {
    name: 'backend',
    resources: ['keyVault', 'blob', 'serviceBus', 'cosmos'] as const,
    load: loadBackendConfig,
  },
];

/** A pod's environment as the process sees it: the manifest's env plus what the webhook adds. */
function podEnvironment(objects: KubernetesObject[], service: string): NodeJS.ProcessEnv {
  const annotations = get(objects, 'ServiceAccount', service).metadata?.annotations ?? {};
  const env: NodeJS.ProcessEnv = {
    AZURE_CLIENT_ID: annotations[CLIENT_ID_ANNOTATION],
    AZURE_TENANT_ID: annotations[TENANT_ID_ANNOTATION],
    AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
    AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
  };
  for (const variable of container(objects, service).env ?? []) {
    expect(variable.valueFrom, `${service}: ${variable.name} is a literal`).toBeUndefined();
    env[variable.name] = variable.value;
  }
  return env;
}

describe.skipIf(skipKubectlTests)(
  'the services accept the configuration the manifests give them',
  () => {
    let overlays: RenderedOverlay[];
    beforeAll(() => {
      overlays = renderOverlays();
    });

    describe.each(['aks', 'local'])('%s overlay', (overlay) => {
      it.each(SERVICES)('$name: its own loaders, as at start-up', ({ name, resources, load }) => {
        const { objects } = overlays.find((rendered) => rendered.overlay === overlay)!;
        const env = podEnvironment(objects, name);
        expect(() => loadAzureConfig(env, resources)).not.toThrow();
        expect(() => load(env)).not.toThrow();
      });
    });

    it('the backend drains for the time the grace period was sized for', () => {
      const { objects } = overlays.find((rendered) => rendered.overlay === 'aks')!;
      expect(loadBackendConfig(podEnvironment(objects, 'backend')).workerDrainTimeoutMs).toBe(
        25_000,
      );
    });
  },
);
