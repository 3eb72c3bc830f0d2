import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import type { CredentialDecorator } from './credential-decorator.js';
import { SingleFlightCredential } from './single-flight-credential.js';

/**
 * The process's only credential. On AKS the webhook's variables make DefaultAzureCredential pick
 * WorkloadIdentityCredential, which re-reads AZURE_FEDERATED_TOKEN_FILE once its copy is five
 * minutes old (so a projected token the kubelet rotated at 80 % of its hour is picked up long
 * before the old one expires). disableInstanceDiscovery skips the instance-metadata
 * call to the public cloud before the first exchange: valid for Azure public cloud too, one
 * network round trip fewer at start-up, and required for an authority the public cloud does not
 * know (the local cloud, or sovereign clouds behind a private authority host).
 */
export function createCredential(decorator?: CredentialDecorator): TokenCredential {
  const sdkCredential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
  return new SingleFlightCredential(decorator ? decorator.decorate(sdkCredential) : sdkCredential);
}
