import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { describeAzureError } from '../errors/describe-azure-error.js';

/** The one SecretClient call this needs, so tests can pass a fake vault. */
export interface SecretReader {
  getSecret(
    name: string,
    options?: { version?: string },
  ): Promise<{ value?: string; properties: { version?: string } }>;
}

export interface SecretVersion {
  version: string;
  value: Buffer;
}

export interface RefreshingSecretOptions {
  name: string;
  refreshIntervalMs: number;
  /** Told about failed background refreshes (the last good version stays in use); logs by default. */
  onRefreshError?: (error: string, loaded: boolean) => void;
  onRotated?: (version: string) => void;
}

/**
 * One Key Vault secret kept in memory and re-read in the background, so a rotated secret is
 * picked up without a restart and a request never waits on Key Vault once the first read
 * succeeded. Older versions are fetched once, by version, for verifying what they signed.
 */
export class RefreshingSecret implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger;
  private latest?: SecretVersion;
  private readonly versions = new Map<string, Promise<Buffer>>();
  /** Versions this process has held as the latest: the only ones a request may name. */
  private readonly held = new Map<string, Buffer>();
  private timer?: NodeJS.Timeout;
  private reading?: Promise<SecretVersion>;

  constructor(
    private readonly secrets: SecretReader,
    private readonly options: RefreshingSecretOptions,
  ) {
    this.logger = new Logger(`Secret ${options.name}`);
  }

  get name(): string {
    return this.options.name;
  }

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /** Starts the first read and the refresh timer without waiting: a vault that is briefly
   * unreachable shows in readiness, not as a crash loop. */
  start(): void {
    const refresh = () =>
      this.refresh().catch((error: unknown) => {
        const loaded = this.latest !== undefined;
        const err = describeAzureError(error);
        if (this.options.onRefreshError) return this.options.onRefreshError(err, loaded);
        this.logger.warn(
          { err },
          loaded ? 'refresh failed; keeping the cached version' : 'not loaded yet',
        );
      });
    void refresh();
    this.timer = setInterval(refresh, this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async current(): Promise<SecretVersion> {
    return this.latest ?? this.refresh();
  }

  /**
   * The value of a version this process has already held as the latest, without a Key Vault
   * call; undefined for any other version. For checking what a client sends back (a CSRF
   * cookie names its key version): a forged version must cost nothing, so it is never fetched.
   */
  knownVersion(version: string): Buffer | undefined {
    return this.held.get(version);
  }

  /**
   * Any version, fetched once from Key Vault if this process has not held it: for verifying what
   * this service itself signed and stored (record signatures), never for a version a client names.
   */
  async forVersion(version: string): Promise<Buffer> {
    if (this.latest?.version === version) return this.latest.value;
    let pending = this.versions.get(version);
    if (!pending) {
      pending = this.secrets
        .getSecret(this.options.name, { version })
        .then((secret) => Buffer.from(secret.value ?? '', 'utf8'));
      // A failed fetch must not be cached as a permanent answer.
      pending.catch(() => this.versions.delete(version));
      this.versions.set(version, pending);
    }
    return pending;
  }

  /** Reads the latest version now; concurrent callers share one request. */
  refresh(): Promise<SecretVersion> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<SecretVersion> {
    const secret = await this.secrets.getSecret(this.options.name);
    const version = secret.properties.version ?? '';
    if (!secret.value || !version)
      throw new Error(`Secret ${this.options.name} has no value or version.`);
    if (this.latest?.version !== version) {
      const previous = this.latest;
      this.latest = { version, value: Buffer.from(secret.value, 'utf8') };
      this.held.set(version, this.latest.value);
      if (previous) {
        this.versions.set(previous.version, Promise.resolve(previous.value));
        if (this.options.onRotated) this.options.onRotated(version);
        else this.logger.log({ version }, 'rotated');
      }
    }
    return this.latest;
  }
}
