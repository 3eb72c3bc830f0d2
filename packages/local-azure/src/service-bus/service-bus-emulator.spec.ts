import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalCa } from '../tls/local-ca.js';
import { TEST_TENANT as TENANT, testCredential } from '../testing/test-credential.js';
import { generateSigningKey, signJwt, toJwk } from '../tokens/jwt.js';
import { SERVICE_BUS_RESOURCE, ServiceBusEmulator } from './service-bus-emulator.js';

const key = generateSigningKey();
let emulator: ServiceBusEmulator;
let namespace: string;
const clients: ServiceBusClient[] = [];

function client(claims: Record<string, unknown> = {}): ServiceBusClient {
  const created = new ServiceBusClient(
    namespace,
    testCredential(key, {
      audience: SERVICE_BUS_RESOURCE,
      claims: { oid: 'oid', xms_mirid: 'id-test', ...claims },
    }),
    { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } },
  );
  clients.push(created);
  return created;
}

beforeAll(async () => {
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  emulator = new ServiceBusEmulator({
    port: 0,
    tls: await ca.issueServerCertificate(['localhost', '127.0.0.1']),
    jwks: () => [toJwk(key)],
    issuer: { issuers: [`https://sts.windows.net/${TENANT}/`], tenantId: TENANT },
    queues: [
      { name: 'documents', maxDeliveryCount: 3, lockDurationMs: 10_000 },
      { name: 'poison', maxDeliveryCount: 2, lockDurationMs: 2000 },
      { name: 'locks', maxDeliveryCount: 5, lockDurationMs: 1000 },
      { name: 'credit', maxDeliveryCount: 5, lockDurationMs: 10_000 },
    ],
    authorize: (claims, action) =>
      claims.appid === 'sender-only' && action === 'listen'
        ? { allowed: false, message: 'sender only' }
        : { allowed: true },
  });
  const { port } = await emulator.start();
  namespace = `localhost:${port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => emulator?.stop());

describe('ServiceBusEmulator with the real ServiceBusClient over TLS', () => {
  it('sends and receives in peek-lock, preserving the message, and completes', async () => {
    const sb = client();
    await sb.createSender('documents').sendMessages({
      messageId: 'doc-1',
      body: { hello: 'world' },
      contentType: 'application/json',
      subject: 'document.uploaded',
      applicationProperties: { schemaVersion: 1 },
    });
    const receiver = sb.createReceiver('documents');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(message).toMatchObject({
      messageId: 'doc-1',
      body: { hello: 'world' },
      contentType: 'application/json',
      subject: 'document.uploaded',
      applicationProperties: { schemaVersion: 1 },
      deliveryCount: 1,
    });
    expect(message!.lockToken).toBeTruthy();
    await receiver.completeMessage(message!);
    expect(emulator.stats('documents')).toMatchObject({ active: 0, locked: 0, completed: 1 });
  });

  it('hands a receiver no more messages than its link credit: the rest stay unlocked in the queue', async () => {
    const sb = client();
    const sender = sb.createSender('credit');
    await sender.sendMessages(
      Array.from({ length: 20 }, (_, i) => ({ messageId: `credit-${i}`, body: i })),
    );
    const receiver = sb.createReceiver('credit');
    const first = await receiver.receiveMessages(3, { maxWaitTimeInMs: 2000 });
    expect(first).toHaveLength(3);
    expect(emulator.stats('credit')).toMatchObject({ active: 17, locked: 3 });
    // subscribe() grants maxConcurrentCalls credits and one more per settled message.
    const streaming = sb.createReceiver('credit');
    let most = 0;
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      const subscription = streaming.subscribe(
        {
          processMessage: async (message) => {
            most = Math.max(most, emulator.stats('credit').locked - first.length);
            await new Promise((r) => setTimeout(r, 20));
            await streaming.completeMessage(message);
            if (++done === 17) void subscription.close().then(resolve);
          },
          processError: async ({ error }) => reject(error),
        },
        { autoCompleteMessages: false, maxConcurrentCalls: 2 },
      );
    });
    expect(most).toBeLessThanOrEqual(2);
    for (const message of first) await receiver.completeMessage(message);
    expect(emulator.stats('credit')).toMatchObject({ active: 0, locked: 0 });
  });

  it('sends a batch of 1000 and receives them all with subscribe()', async () => {
    const sb = client();
    const sender = sb.createSender('documents');
    for (let start = 0; start < 1000; start += 100) {
      await sender.sendMessages(
        Array.from({ length: 100 }, (_, i) => ({ messageId: `m-${start + i}`, body: start + i })),
      );
    }
    const seen = new Set<number>();
    const receiver = sb.createReceiver('documents');
    await new Promise<void>((resolve, reject) => {
      receiver.subscribe(
        {
          processMessage: async (message: ServiceBusReceivedMessage) => {
            await receiver.completeMessage(message);
            seen.add(message.body as number);
            if (seen.size === 1000) resolve();
          },
          processError: async (args) => reject(args.error),
        },
        { autoCompleteMessages: false, maxConcurrentCalls: 16 },
      );
    });
    expect(seen.size).toBe(1000);
    expect(emulator.stats('documents')).toMatchObject({ active: 0, locked: 0 });
  });

  it('redelivers an abandoned message and dead-letters it after maxDeliveryCount', async () => {
    const sb = client();
    await sb.createSender('poison').sendMessages({ messageId: 'p', body: 'x' });
    const receiver = sb.createReceiver('poison');
    for (let i = 1; i <= 2; i++) {
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      expect(message?.deliveryCount).toBe(i);
      await receiver.abandonMessage(message!);
    }
    const dlq = sb.createReceiver('poison', { subQueueType: 'deadLetter' });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(dead?.messageId).toBe('p');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    await dlq.completeMessage(dead!);
  });

  it('dead-letters on request with the reason and description', async () => {
    const sb = client();
    await sb.createSender('documents').sendMessages({ messageId: 'bad', body: 'not json' });
    const receiver = sb.createReceiver('documents');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'MalformedMessage',
      deadLetterErrorDescription: 'body is not JSON',
    });
    expect(emulator.deadLetters('documents').at(-1)).toEqual({
      messageId: 'bad',
      reason: 'MalformedMessage',
      description: 'body is not JSON',
      deliveryCount: 1,
    });
  });

  it('renews a lock past its duration, and redelivers when a lock expires', async () => {
    const sb = client();
    await sb.createSender('locks').sendMessages([
      { messageId: 'kept', body: 1 },
      { messageId: 'lost', body: 2 },
    ]);
    // The SDK would otherwise renew both locks itself, which the worker relies on in production.
    const receiver = sb.createReceiver('locks', { maxAutoLockRenewalDurationInMs: 0 });
    const messages = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    const kept = messages.find((m) => m.messageId === 'kept')!;
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await receiver.renewMessageLock(kept);
    }
    await receiver.completeMessage(kept);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(again?.messageId).toBe('lost');
    expect(again?.deliveryCount).toBe(2);
    await receiver.completeMessage(again!);
  });

  it('peeks without locking', async () => {
    const sb = client();
    await sb.createSender('documents').sendMessages({ messageId: 'peeked', body: 'p' });
    const peeked = await sb.createReceiver('documents').peekMessages(5);
    expect(peeked.map((m) => m.messageId)).toContain('peeked');
    expect(emulator.stats('documents').locked).toBe(0);
    const receiver = sb.createReceiver('documents', { receiveMode: 'receiveAndDelete' });
    const [taken] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(taken?.messageId).toBe('peeked');
    expect(emulator.stats('documents')).toMatchObject({ active: 0, locked: 0 });
  });

  it('refuses a receiver without the listen right (UnauthorizedAccess) and an unknown queue (MessagingEntityNotFound)', async () => {
    const denied = await client({ appid: 'sender-only' })
      .createReceiver('documents')
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'UnauthorizedAccess' });
    expect((denied as Error).message).toContain('id-test');
    const missing = await client()
      .createSender('nope')
      .sendMessages({ body: 1 })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'MessagingEntityNotFound' });
  });

  it('refuses a token signed by another key at put-token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = generateSigningKey();
    const sb = new ServiceBusClient(
      namespace,
      {
        getToken: async () => ({
          token: await signJwt(
            {
              aud: SERVICE_BUS_RESOURCE,
              iss: 'x',
              appid: 'a',
              oid: 'o',
              tid: TENANT,
              iat: now,
              nbf: now,
              exp: now + 600,
            },
            other,
          ),
          expiresOnTimestamp: Date.now() + 600_000,
        }),
      },
      { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } },
    );
    clients.push(sb);
    const error = await sb
      .createSender('documents')
      .sendMessages({ body: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UnauthorizedAccess' });
  });
});
