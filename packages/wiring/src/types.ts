/**
 * Typed views of rendered objects, from the same generated models that validate them, so that
 * code reading or mutating manifests (the tests) need not depend on kubernetes-models itself.
 */
export type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
export type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
export type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
export type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
export type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
export type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
export type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
export type { IContainer } from 'kubernetes-models/v1/Container';
export type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
export type { IService } from 'kubernetes-models/v1/Service';
