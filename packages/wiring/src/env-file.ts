import { readFileSync } from 'node:fs';

export class EnvFileError extends Error {
  override name = 'EnvFileError';
}

/**
 * Reads an env file the way kustomize's configMapGenerator `envs:` does: KEY=VALUE per line,
 * `#` comments and blank lines ignored, the value taken verbatim (no unquoting).
 */
export function parseEnvFile(text: string, source = 'env file'): Record<string, string> {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new EnvFileError(`${source}:${index + 1}: expected KEY=VALUE`);
    const key = line.slice(0, equals);
    if (key in values) throw new EnvFileError(`${source}:${index + 1}: duplicate key ${key}`);
    values[key] = line.slice(equals + 1);
  });
  return values;
}

export function readEnvFile(path: string): Record<string, string> {
  return parseEnvFile(readFileSync(path, 'utf8'), path);
}
