import { type INestApplication, Logger as NestLogger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError } from '../config/azure-config.js';
import { BoundedExpressAdapter, loadServerLimits, type ServerLimits } from './server-limits.js';

export interface RunServiceOptions {
  name: string;
  /**
   * Where to listen: best read from the service's own validated configuration once the app
   * exists (`(app) => app.get(CONFIG).port`), so PORT has one reader and a malformed value is the
   * same one-line ConfigError as any other variable.
   */
  port: number | ((app: INestApplication) => number);
  configure?: (app: INestApplication) => void | Promise<void>;
}

/**
 * Starts a service the same way everywhere: JSON logger, shutdown hooks (SIGTERM drains the
 * worker and closes the Azure clients), and a one-line, non-zero exit when configuration is
 * missing or malformed, so `kubectl logs` of a crash-looping pod names the variable.
 */
export async function runService(
  module: Type<unknown>,
  options: RunServiceOptions,
): Promise<INestApplication> {
  let app: INestApplication;
  let limits: ServerLimits;
  try {
    limits = loadServerLimits(process.env);
    // Silent until the JSON logger takes over: Nest's own start-up lines are not JSON, and a
    // configuration error must come out as exactly one line.
    app = await NestFactory.create(module, new BoundedExpressAdapter(limits), {
      logger: false,
      abortOnError: false,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await options.configure?.(app);
  const port = typeof options.port === 'function' ? options.port(app) : options.port;
  await app.listen(port, limits.host);
  new NestLogger('Bootstrap').log(
    {
      port,
      host: limits.host,
      url: await app.getUrl(),
      headersTimeoutMs: limits.headersTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
    },
    `${options.name} listening`,
  );
  return app;
}
