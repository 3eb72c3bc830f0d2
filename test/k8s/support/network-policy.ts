import type { KubernetesObject } from '@wi/wiring';
import type { INetworkPolicy } from '@wi/wiring';
import type { INetworkPolicyPeer } from '@wi/wiring';
import type { INetworkPolicyPort } from '@wi/wiring';

/** A party to a connection: a pod (namespace, labels, named ports) or an address outside. */
export type Endpoint =
  | { pod: { namespace: string; labels: Record<string, string>; ports?: Record<string, number> } }
  | { ip: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Decides a connection the way the NetworkPolicy API defines it: egress must be allowed for the
 * source pod and ingress for the destination pod, where a pod that no policy of a direction
 * selects is open in that direction. Enough of the spec for this app's policies (pod, namespace
 * and ipBlock peers, numeric and named ports); CNI quirks are for a real cluster to show.
 */
export function isAllowed(objects: readonly KubernetesObject[], connection: Connection): boolean {
  const policies = objects
    .filter((object) => object.kind === 'NetworkPolicy')
    .map((object) => object as unknown as INetworkPolicy);
  const { from, to } = connection;
  return (
    directionAllows(policies, 'Egress', from, to, connection) &&
    directionAllows(policies, 'Ingress', to, from, connection)
  );
}

function directionAllows(
  policies: INetworkPolicy[],
  direction: 'Ingress' | 'Egress',
  subject: Endpoint,
  peer: Endpoint,
  connection: Connection,
): boolean {
  // Addresses outside the cluster are not subject to this cluster's policies.
  if (!('pod' in subject)) return true;
  const selecting = policies.filter(
    (policy) =>
      policy.metadata?.namespace === subject.pod.namespace &&
      policyTypes(policy).includes(direction) &&
      matches(policy.spec?.podSelector ?? {}, subject.pod.labels),
  );
  if (selecting.length === 0) return true;
  const destination = direction === 'Egress' ? peer : subject;
  return selecting.some((policy) => {
    const rules =
      direction === 'Egress'
        ? (policy.spec?.egress ?? []).map((rule) => ({ peers: rule.to, ports: rule.ports }))
        : (policy.spec?.ingress ?? []).map((rule) => ({ peers: rule.from, ports: rule.ports }));
    return rules.some(
      (rule) =>
        (rule.peers === undefined ||
          rule.peers.length === 0 ||
          rule.peers.some((p) => peerMatches(p, peer, policy.metadata?.namespace ?? ''))) &&
        portsMatch(rule.ports, destination, connection),
    );
  });
}

function policyTypes(policy: INetworkPolicy): string[] {
  if (policy.spec?.policyTypes) return policy.spec.policyTypes;
  return policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

function peerMatches(
  peer: INetworkPolicyPeer,
  endpoint: Endpoint,
  policyNamespace: string,
): boolean {
  if (peer.ipBlock) {
    return (
      'ip' in endpoint &&
      inCidr(endpoint.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((cidr) => inCidr(endpoint.ip, cidr))
    );
  }
  if (!('pod' in endpoint)) return false;
  const { namespace, labels } = endpoint.pod;
  const namespaceOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': namespace })
    : namespace === policyNamespace;
  return namespaceOk && matches(peer.podSelector ?? {}, labels);
}

function portsMatch(
  ports: INetworkPolicyPort[] | undefined,
  destination: Endpoint,
  connection: Connection,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((rule) => {
    if ((rule.protocol ?? 'TCP') !== (connection.protocol ?? 'TCP')) return false;
    if (rule.port === undefined) return true;
    const port =
      typeof rule.port === 'number'
        ? rule.port
        : 'pod' in destination
          ? destination.pod.ports?.[rule.port]
          : undefined;
    if (port === undefined) return false;
    return rule.endPort
      ? connection.port >= port && connection.port <= rule.endPort
      : connection.port === port;
  });
}

function matches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(
    ([key, value]) => labels[key] === value,
  );
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]!);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]!);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabel && byExpression;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base!) & mask) >>> 0;
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}
