import type { ServiceIdentity } from '@wi/identities';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject, PodTemplate } from './manifests.js';
import { containerEnvironment, usesMismatches } from './uses.js';

const configMap = (name: string, data: Record<string, string>): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data,
});

const deployment: KubernetesObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'reports', namespace: 'ns' },
};

function template(container: PodTemplate['spec']['containers'][number]): PodTemplate {
  return { owner: deployment, labels: {}, annotations: {}, spec: { containers: [container] } };
}

const identity = {
  service: 'reports',
  uses: {
    REPORT_SECRET_NAME: { resource: 'keyVault', secret: 'reports-key' },
    INBOX_QUEUE: { resource: 'serviceBus', queue: 'inbox' },
  },
} as unknown as ServiceIdentity;

describe('containerEnvironment', () => {
  it('builds it as the kubelet does: envFrom with its prefix, then env, which wins', () => {
    const env = containerEnvironment(
      [configMap('names', { A: 'from-map', B: 'from-map' }), configMap('other', { K: 'v' })],
      'ns',
      {
        name: 'c',
        envFrom: [
          { configMapRef: { name: 'names' } },
          { configMapRef: { name: 'other' }, prefix: 'P_' },
        ],
        env: [
          { name: 'B', value: 'literal' },
          { name: 'C', valueFrom: { configMapKeyRef: { name: 'other', key: 'K' } } },
          { name: 'D', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
    );
    expect(Object.fromEntries([...env].map(([key, { value }]) => [key, value]))).toEqual({
      A: 'from-map',
      B: 'literal',
      P_K: 'v',
      C: 'v',
      D: undefined,
    });
  });

  it('finds no keys in a ConfigMap of another namespace', () => {
    const env = containerEnvironment([configMap('names', { A: 'x' })], 'elsewhere', {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'names' } }],
    });
    expect(env.size).toBe(0);
  });
});

describe('usesMismatches', () => {
  it('is empty when every declared name arrives', () => {
    const objects = [configMap('reports-uses-abc', { REPORT_SECRET_NAME: 'reports-key' })];
    const pod = template({
      name: 'reports',
      envFrom: [{ configMapRef: { name: 'reports-uses-abc' } }],
      env: [{ name: 'INBOX_QUEUE', value: 'inbox' }],
    });
    expect(usesMismatches(objects, identity, pod)).toEqual([]);
  });

  it('names each variable that is missing, different or not comparable', () => {
    const pod = template({
      name: 'reports',
      env: [{ name: 'INBOX_QUEUE', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    });
    expect(usesMismatches([], identity, pod)).toEqual([
      'REPORT_SECRET_NAME is not set (declared: reports-key)',
      'INBOX_QUEUE comes from valueFrom, which the output does not show (declared: inbox)',
    ]);
    const wrong = template({ name: 'reports', env: [{ name: 'INBOX_QUEUE', value: 'outbox' }] });
    expect(usesMismatches([], identity, wrong)).toContain(
      "INBOX_QUEUE is 'outbox' (env), declared: inbox",
    );
  });
});
