import { type RenderedOverlay, validateObject, validateSchemas } from '@wi/wiring';
import { beforeAll, describe, expect, it } from 'vitest';
import { copy, deployment, get, renderOverlays, skipKubectlTests } from './support/k8s.js';

describe.skipIf(skipKubectlTests)(
  'every rendered object validates against the Kubernetes OpenAPI schema',
  () => {
    let overlays: RenderedOverlay[];
    beforeAll(() => {
      overlays = renderOverlays();
    });

    it.each(['aks', 'local'])('%s: no schema violation', async (name) => {
      const { objects } = overlays.find((overlay) => overlay.overlay === name)!;
      expect(await validateSchemas(objects)).toEqual([]);
    });

    // The validator is the one generated from the schema (kubernetes-models): prove it bites.
    it('catches a wrong type, a wrong enum value and a missing required field', async () => {
      const objects = copy(overlays[0]!.objects);
      const frontend = deployment(objects, 'frontend');
      (frontend.spec as { replicas: unknown }).replicas = 'two';
      expect(await validateObject(get(objects, 'Deployment', 'frontend'))).toEqual([
        '/spec/replicas must be integer',
      ]);

      const pdb = get(objects, 'PodDisruptionBudget', 'backend');
      (pdb.spec as Record<string, unknown>).unhealthyPodEvictionPolicy = 'Sometimes';
      expect(await validateObject(pdb)).toEqual([
        '/spec/unhealthyPodEvictionPolicy must be equal to one of the allowed values',
      ]);

      const backend = deployment(objects, 'backend');
      delete (backend.spec!.template.spec as { containers?: unknown }).containers;
      expect(await validateObject(get(objects, 'Deployment', 'backend'))).toEqual([
        '/spec/template/spec must have required property containers',
      ]);
    });

    it('refuses an apiVersion or kind it has no schema for', async () => {
      const objects = copy(overlays[0]!.objects);
      const hpa = get(objects, 'HorizontalPodAutoscaler', 'backend');
      hpa.apiVersion = 'autoscaling/v2beta9';
      expect(await validateObject(hpa)).toEqual([
        'no schema for autoscaling/v2beta9 HorizontalPodAutoscaler',
      ]);
    });
  },
);
