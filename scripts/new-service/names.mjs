// What a new service may be called, and every name derived from it. The name reaches DNS (the
// Service), Kubernetes object names, a managed identity, a federated credential, an image, a
// Bicep output and environment variable prefixes, so it must be valid in all of them: a DNS
// label, short, with no path, no dots and no doubled hyphens (which also keeps the derived
// camelCase and ENV_NAME forms one-to-one).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const MAX_LENGTH = 30;

/**
 * Names with a meaning already: folders of k8s/base, the images scripts/docker-build.sh builds
 * that are not services, and Kubernetes' own.
 */
const RESERVED = new Set(['network-policies', 'namespace', 'local-cloud', 'components', 'default']);

export class NameError extends Error {
  name = 'NameError';
}

/** Refuses anything but a fresh, valid service name, saying why. */
export function checkName(name, { root, declaration }) {
  if (typeof name !== 'string' || name === '') throw new NameError('name the service');
  const shown = JSON.stringify(name).slice(0, 80);
  if (name.length > MAX_LENGTH) {
    throw new NameError(`${shown} is longer than ${MAX_LENGTH} characters`);
  }
  if (!NAME.test(name)) {
    throw new NameError(
      `${shown} is not a service name: lowercase letters, digits and single hyphens, starting with a letter, ending with a letter or digit (a DNS label)`,
    );
  }
  if (RESERVED.has(name)) throw new NameError(`'${name}' is reserved`);
  const taken = declaration.identities.find(
    (identity) =>
      identity.service === name ||
      identity.serviceAccount.name === name ||
      camel(identity.service) === camel(name),
  );
  if (taken) {
    throw new NameError(`'${name}' is already a service of infra/identities.json`);
  }
  if (declaration.deployIdentities?.some((identity) => identity.name === name)) {
    throw new NameError(`'${name}' is already a deploy identity of infra/identities.json`);
  }
  for (const path of [
    ['services', name],
    ['k8s', 'base', name],
  ]) {
    if (existsSync(join(root, ...path))) throw new NameError(`${path.join('/')} already exists`);
  }
}

/** report-worker → reportWorker: Bicep output and env-file key prefix. */
export function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, next) => next.toUpperCase());
}

/** report-worker → ReportWorker: class names. */
export function pascal(name) {
  const c = camel(name);
  return c[0].toUpperCase() + c.slice(1);
}

/** report-worker → REPORT_WORKER: constants and variable prefixes. */
export function constant(name) {
  return name.toUpperCase().replaceAll('-', '_');
}
