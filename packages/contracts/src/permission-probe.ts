/**
 * What a permission probe checks (packages/azure's probes: readiness runs them, the Identity
 * report runs them and compares each outcome with what least privilege expects).
 * `api`: a call to another service's API with an Entra token for its app registration.
 */
export type ProbeResource = 'keyVault' | 'blob' | 'serviceBus' | 'cosmos' | 'api';

/** What least privilege says a probe must meet. */
export type ProbeExpectation = 'allowed' | 'denied';
