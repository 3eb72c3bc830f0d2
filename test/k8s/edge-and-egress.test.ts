import { beforeAll, describe, expect, it } from 'vitest';
import { type RenderedOverlay } from '@wi/wiring';
import { get, renderOverlays, skipKubectlTests } from './support/k8s.js';
import { type Endpoint, isAllowed } from './support/network-policy.js';

// TLS at the edge and the egress policy, as rendered for AKS (issue 18).

describe.skipIf(skipKubectlTests)('AKS edge and egress', () => {
  let aks: RenderedOverlay;
  beforeAll(() => {
    aks = renderOverlays().find((overlay) => overlay.overlay === 'aks')!;
  });

  it('serves the frontend over TLS with the Key Vault certificate, redirecting plain HTTP', () => {
    const ingress = get(aks.objects, 'Ingress', 'frontend') as {
      metadata: { annotations: Record<string, string> };
      spec: { ingressClassName: string; tls: { hosts: string[]; secretName: string }[] };
    };
    expect(ingress.spec.ingressClassName).toBe('webapprouting.kubernetes.azure.com');
    expect(ingress.metadata.annotations).toMatchObject({
      'kubernetes.azure.com/tls-cert-keyvault-uri':
        'https://kv-fake-example.vault.azure.net/certificates/ingress-tls',
      'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
    });
    // The add-on syncs the certificate into keyvault-<ingress name>.
    expect(ingress.spec.tls).toEqual([
      { hosts: ['doc-intake.fake-example.invalid'], secretName: 'keyvault-frontend' },
    ]);
  });

  it('keeps the frontend on Secure cookies (the default once the edge is HTTPS)', () => {
    const text = JSON.stringify(get(aks.objects, 'Deployment', 'frontend'));
    expect(text).not.toMatch(/"name":"COOKIE_SECURE","value":"false"/);
  });

  it('lets the apps out on 443 and 5671 only, never to IMDS, the wire server or private ranges', () => {
    const policy = get(aks.objects, 'NetworkPolicy', 'allow-azure') as {
      spec: {
        egress: {
          to: { ipBlock: { cidr: string; except?: string[] } }[];
          ports: { port: number }[];
        }[];
      };
    };
    const [internet, endpoints] = policy.spec.egress;
    expect(internet!.to[0]!.ipBlock).toEqual({
      cidr: '0.0.0.0/0',
      except: [
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '100.64.0.0/10',
        '169.254.0.0/16',
        '168.63.129.16/32',
      ],
    });
    // The private endpoint subnet of networkIsolation (infra/modules/network.bicep).
    expect(endpoints!.to[0]!.ipBlock).toEqual({ cidr: '10.225.0.0/24' });
    for (const rule of policy.spec.egress) {
      expect(rule.ports.map((p) => p.port)).toEqual([443, 5671]);
    }
  });

  it.each([
    ['a public Azure address on 443', '20.60.1.1', 443, true],
    ['a public Azure address on 5671 (Service Bus)', '20.60.1.1', 5671, true],
    ['a private endpoint of networkIsolation', '10.225.0.4', 443, true],
    ['the instance metadata service (the node identity)', '169.254.169.254', 80, false],
    ['the instance metadata service on 443', '169.254.169.254', 443, false],
    ['the wire server', '168.63.129.16', 443, false],
    ['a node or another VNet address', '10.224.0.5', 443, false],
    ['a peered private network', '192.168.1.10', 443, false],
    ['the internet on plain HTTP', '20.60.1.1', 80, false],
  ])('backend -> %s: %s', (_name, ip, port, allowed) => {
    const backend: Endpoint = {
      pod: {
        namespace: 'doc-intake',
        labels: { 'app.kubernetes.io/name': 'backend' },
        ports: { http: 3001 },
      },
    };
    expect(isAllowed(aks.objects, { from: backend, to: { ip }, port })).toBe(allowed);
  });
});
