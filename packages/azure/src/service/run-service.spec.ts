import { createServer } from 'node:net';
import { type INestApplication, Module } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServiceLoggerModule } from './logger.module.js';
import { runService } from './run-service.js';

const CONFIG = Symbol('CONFIG');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('runService', () => {
  it("listens on the port the service's own validated configuration holds", async () => {
    vi.stubEnv('LOG_LEVEL', 'silent');
    const port = await freePort();
    @Module({
      imports: [ServiceLoggerModule.forRoot('test')],
      providers: [{ provide: CONFIG, useFactory: () => ({ port }) }],
    })
    class TestModule {}
    app = await runService(TestModule, {
      name: 'test',
      port: (created) => created.get<{ port: number }>(CONFIG).port,
    });
    expect(new URL(await app.getUrl()).port).toBe(String(port));
    expect((await fetch(`http://127.0.0.1:${port}/nothing-here`)).status).toBe(404);
  });
});
