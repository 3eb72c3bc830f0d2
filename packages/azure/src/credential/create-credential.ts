import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import { SingleFlightCredential } from './single-flight-credential.js';

/**
 * The process's only credential. On AKS the webhook's variables make DefaultAzureCredential pick
 * WorkloadIdentityCredential, which reads AZURE_FEDERATED_TOKEN_FILE on every exchange (so a
 * rotated projected token is always used). disableInstanceDiscovery skips the instance-metadata
 * call to the public cloud before the first exchange: valid for Azure public cloud too, one
 * network round trip fewer at start-up, and required for an authority the public cloud does not
 * know (the local cloud, or sovereign clouds behind a private authority host).
 */
export function createCredential(): TokenCredential {
  return new SingleFlightCredential(new DefaultAzureCredential({ disableInstanceDiscovery: true }));
}
