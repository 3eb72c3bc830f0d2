import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  created: number;
}

/** Versioned secrets, optionally persisted so HMAC-signed records keep verifying across restarts. */
export class SecretStore {
  private secrets = new Map<string, SecretVersion[]>();

  constructor(private readonly file?: string) {}

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as Record<
        string,
        SecretVersion[]
      >;
      this.secrets = new Map(Object.entries(saved));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  names(): string[] {
    return [...this.secrets.keys()];
  }

  latest(name: string): SecretVersion | undefined {
    return this.secrets.get(name)?.at(-1);
  }

  version(name: string, version: string): SecretVersion | undefined {
    return this.secrets.get(name)?.find((v) => v.version === version);
  }

  versions(name: string): readonly SecretVersion[] {
    return this.secrets.get(name) ?? [];
  }

  async set(name: string, value: string, contentType?: string): Promise<SecretVersion> {
    const entry: SecretVersion = {
      version: randomBytes(16).toString('hex'),
      value,
      created: Math.floor(Date.now() / 1000),
      ...(contentType ? { contentType } : {}),
    };
    this.secrets.set(name, [...this.versions(name), entry]);
    await this.save();
    return entry;
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.tmp`;
    await writeFile(temp, JSON.stringify(Object.fromEntries(this.secrets)), { mode: 0o600 });
    await rename(temp, this.file);
  }
}
