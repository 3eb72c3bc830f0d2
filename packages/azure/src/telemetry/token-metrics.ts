import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('@wi/azure');

/** Token exchanges with Entra ID (cache hits are not exchanges), per audience and outcome. */
const acquisitions = meter.createCounter('azure.identity.token.acquisitions', {
  description:
    'Access tokens requested from Microsoft Entra ID (one per audience per token lifetime when healthy)',
  unit: '{token}',
});
const duration = meter.createHistogram('azure.identity.token.acquisition.duration', {
  description: 'Time to obtain an access token, including the federated token exchange',
  unit: 's',
  advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
});

/**
 * `https://vault.azure.net/.default` → `https://vault.azure.net` (and `https://servicebus.azure.net//.default`
 * → `https://servicebus.azure.net`): one value per resource.
 */
export function audienceOf(scopes: string | string[]): string {
  return (Array.isArray(scopes) ? scopes : [scopes])
    .map((scope) => scope.replace(/\/\.default$/, '').replace(/\/+$/, ''))
    .sort()
    .join(' ');
}

/** The Entra error code (AADSTS700213, ...) or the error's class name: never its message. */
export function errorTypeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /AADSTS\d+/.exec(message)?.[0] ?? (error instanceof Error ? error.name : 'Error');
}

export function recordTokenAcquisition(
  scopes: string | string[],
  seconds: number,
  error?: unknown,
): void {
  const attributes = {
    'azure.identity.audience': audienceOf(scopes),
    outcome: error === undefined ? 'success' : 'failure',
    ...(error === undefined ? {} : { 'error.type': errorTypeOf(error) }),
  };
  acquisitions.add(1, attributes);
  duration.record(seconds, attributes);
}
