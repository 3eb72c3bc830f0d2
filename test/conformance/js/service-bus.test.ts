import {
  ServiceBusClient,
  isServiceBusError,
  type ServiceBusReceivedMessage,
} from '@azure/service-bus';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ensureLocalCa,
  generateSigningKey,
  SERVICE_BUS_RESOURCE,
  ServiceBusEmulator,
  toJwk,
} from '@wi/local-azure';
import {
  TEST_TENANT,
  testCredential,
} from '../../../packages/local-azure/src/testing/test-credential.js';

/**
 * The JS SDK's Service Bus features just beyond this app's, against the emulator: batches
 * sized by the link's max-message-size, scheduling with Send, topics and subscriptions, the
 * dead-letter sub-queue, lock renewal, settlement over $management once a receiver closed, and
 * links detached when their token expires.
 */

const key = generateSigningKey();
let emulator: ServiceBusEmulator;
let namespace: string;
const clients: ServiceBusClient[] = [];

/** Who may do what: `sender` sends only, `receiver` listens only, as the built-in roles do. */
function client(appid: 'sender' | 'receiver' | 'both', claims: Record<string, unknown> = {}) {
  const created = new ServiceBusClient(
    namespace,
    testCredential(key, {
      audience: SERVICE_BUS_RESOURCE,
      claims: { appid, oid: appid, ...claims },
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
    tls: await ca.issueServerCertificate(['localhost']),
    jwks: () => [toJwk(key)],
    issuer: { issuers: [`https://sts.windows.net/${TEST_TENANT}/`], tenantId: TEST_TENANT },
    queues: [
      { name: 'batches', lockDurationMs: 5000 },
      { name: 'scheduled', lockDurationMs: 5000 },
      { name: 'dlq', maxDeliveryCount: 2, lockDurationMs: 5000 },
      { name: 'locks', lockDurationMs: 1000 },
      { name: 'expiry', lockDurationMs: 5000 },
      { name: 'settle-later', lockDurationMs: 5000 },
    ],
    topics: [{ name: 'events', subscriptions: [{ name: 'audit' }, { name: 'billing' }] }],
    authorize: (claims, action) =>
      claims.appid === 'both' ||
      (claims.appid === 'sender' && action === 'send') ||
      (claims.appid === 'receiver' && action === 'listen')
        ? { allowed: true }
        : { allowed: false, message: `no ${action}` },
  });
  const { port } = await emulator.start();
  namespace = `localhost:${port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => emulator?.stop());

async function receiveAll(
  receiver: ReturnType<ServiceBusClient['createReceiver']>,
  count: number,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + 10_000;
  while (received.length < count && Date.now() < deadline) {
    received.push(
      ...(await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1000 })),
    );
  }
  return received;
}

describe('batches', () => {
  it('sends an empty batch and a full one, sized by the max-message-size the link carries', async () => {
    const sender = client('sender').createSender('batches');
    // Threw "Provided value for 'messages' must be of type …" when the link had no size.
    await sender.sendMessages(await sender.createMessageBatch());
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    let added = 0;
    while (batch.tryAddMessage({ body: 'x'.repeat(1000), messageId: `b-${added}` })) added += 1;
    expect(added).toBeGreaterThan(200);
    await sender.sendMessages(batch);
    const received = await receiveAll(
      client('receiver').createReceiver('batches', { receiveMode: 'receiveAndDelete' }),
      added,
    );
    expect(received).toHaveLength(added);
  });

  it('refuses a single message over 256 KB with MessageSizeExceeded', async () => {
    const sender = client('sender').createSender('batches');
    const error = await sender
      .sendMessages({ body: 'x'.repeat(300 * 1024) })
      .catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe('MessageSizeExceeded');
  });
});

describe('scheduling', () => {
  it('schedules and cancels with Send only, and delivers a scheduled message at its time', async () => {
    const sender = client('sender').createSender('scheduled');
    const [cancelled] = await sender.scheduleMessages(
      { body: 'never', messageId: 'c' },
      new Date(Date.now() + 60_000),
    );
    await sender.cancelScheduledMessages(cancelled!);
    const at = new Date(Date.now() + 1500);
    await sender.scheduleMessages({ body: 'later', messageId: 's' }, at);
    const receiver = client('receiver').createReceiver('scheduled');
    const peeked = await receiver.peekMessages(10);
    expect(peeked.map((m) => m.messageId)).toEqual(['s']);
    const [message] = await receiveAll(receiver, 1);
    expect(message?.messageId).toBe('s');
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime() - 50);
    await receiver.completeMessage(message!);
  });

  it('refuses scheduling to an identity without Send', async () => {
    const error = await client('receiver')
      .createSender('scheduled')
      .scheduleMessages({ body: 'x' }, new Date(Date.now() + 60_000))
      .catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe('UnauthorizedAccess');
  });
});

describe('topics and subscriptions', () => {
  it('delivers each message sent to a topic to every subscription', async () => {
    await client('sender')
      .createSender('events')
      .sendMessages([
        { body: 1, messageId: 'e1' },
        { body: 2, messageId: 'e2' },
      ]);
    const reader = client('receiver');
    for (const subscription of ['audit', 'billing']) {
      const receiver = reader.createReceiver('events', subscription);
      const received = await receiveAll(receiver, 2);
      expect(received.map((m) => m.messageId).sort()).toEqual(['e1', 'e2']);
      for (const m of received) await receiver.completeMessage(m);
    }
  });

  it('refuses a listen on a subscription to an identity without Listen, and an unknown subscription', async () => {
    const denied = await client('sender')
      .createReceiver('events', 'audit')
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((e: unknown) => e);
    expect(isServiceBusError(denied) && denied.code).toBe('UnauthorizedAccess');
    const missing = await client('receiver')
      .createReceiver('events', 'nope')
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((e: unknown) => e);
    expect(isServiceBusError(missing) && missing.code).toBe('MessagingEntityNotFound');
  });
});

describe('dead-letter semantics', () => {
  it('moves a message after maxDeliveryCount, keeps reason and description, and settles without noise', async () => {
    const errors = vi.spyOn(console, 'error');
    await client('sender')
      .createSender('dlq')
      .sendMessages([
        { body: 'poison', messageId: 'p' },
        { body: 'bad', messageId: 'b' },
      ]);
    const receiver = client('receiver').createReceiver('dlq');
    const first = await receiveAll(receiver, 2);
    const poison = first.find((m) => m.messageId === 'p')!;
    await receiver.deadLetterMessage(
      first.find((m) => m.messageId === 'b')!,
      {
        deadLetterReason: 'Malformed',
        deadLetterErrorDescription: 'not JSON',
      },
    );
    await receiver.abandonMessage(poison);
    const [again] = await receiveAll(receiver, 1);
    expect(again?.deliveryCount).toBe(2);
    await receiver.abandonMessage(again!);
    const dlq = client('receiver').createReceiver('dlq', { subQueueType: 'deadLetter' });
    const dead = await receiveAll(dlq, 2);
    expect(
      dead.map((m) => [m.messageId, m.deadLetterReason, m.deadLetterErrorDescription]).sort(),
    ).toEqual([
      ['b', 'Malformed', 'not JSON'],
      ['p', 'MaxDeliveryCountExceeded', expect.any(String)],
    ]);
    for (const m of dead) await dlq.completeMessage(m);
    // Settlements are answered with an outcome: rhea logs nothing.
    expect(errors.mock.calls.flat().join(' ')).not.toMatch(/unrecognised outcome/);
    errors.mockRestore();
  });

  it('refuses a send to the dead-letter sub-queue', async () => {
    const error = await client('both')
      .createSender('dlq/$deadletterqueue')
      .sendMessages({ body: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(emulator.stats('dlq').deadLettered).toBe(0);
  });
});

describe('locks', () => {
  it('renews a lock past its duration; a settled message cannot be renewed', async () => {
    await client('sender').createSender('locks').sendMessages({ body: 'l', messageId: 'l' });
    const receiver = client('receiver').createReceiver('locks');
    const [message] = await receiveAll(receiver, 1);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      const until = await receiver.renewMessageLock(message!);
      expect(until.getTime()).toBeGreaterThan(Date.now());
    }
    await receiver.completeMessage(message!);
    const error = await receiver.renewMessageLock(message!).catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe('MessageLockLost');
  });
});

describe('settling after the receiving link closed', () => {
  // The SDK settles over $management (com.microsoft:update-disposition) when the link a message
  // came on is gone, as after a reconnect. The lock is the message's, so it is still held.
  it('completes, abandons and dead-letters over $management, and refuses a lock already settled', async () => {
    await client('sender')
      .createSender('settle-later')
      .sendMessages(['done', 'again', 'dead'].map((messageId) => ({ body: 1, messageId })));
    const reader = client('receiver');
    const first = reader.createReceiver('settle-later');
    const received = await receiveAll(first, 3);
    await first.close();
    const byId = (id: string) => received.find((m) => m.messageId === id)!;
    const settler = reader.createReceiver('settle-later');
    await settler.completeMessage(byId('done'));
    await settler.abandonMessage(byId('again'));
    await settler.deadLetterMessage(byId('dead'), {
      deadLetterReason: 'Malformed',
      deadLetterErrorDescription: 'not JSON',
    });
    const lost = await settler.completeMessage(byId('done')).catch((e: unknown) => e);
    expect(isServiceBusError(lost) && lost.code).toBe('MessageLockLost');

    const [redelivered] = await receiveAll(settler, 1);
    expect([redelivered?.messageId, redelivered?.deliveryCount]).toEqual(['again', 2]);
    await settler.completeMessage(redelivered!);
    const [dead] = await receiveAll(
      reader.createReceiver('settle-later', { subQueueType: 'deadLetter' }),
      1,
    );
    expect([dead?.messageId, dead?.deadLetterReason, dead?.deadLetterErrorDescription]).toEqual([
      'dead',
      'Malformed',
      'not JSON',
    ]);
    expect(emulator.stats('settle-later')).toMatchObject({ active: 0, locked: 1, completed: 2 });
  });

  it('refuses update-disposition to an identity without Listen', async () => {
    const before = emulator.stats('settle-later');
    await client('sender').createSender('settle-later').sendMessages({ body: 1, messageId: 'x' });
    const [message] = await receiveAll(client('receiver').createReceiver('settle-later'), 1);
    const error = await client('sender')
      .createReceiver('settle-later')
      .completeMessage(message!)
      .catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe('UnauthorizedAccess');
    expect(emulator.stats('settle-later')).toMatchObject({
      completed: before.completed,
      locked: before.locked + 1,
    });
  });
});

describe('token expiry', () => {
  it('detaches a receiving link once the token it was authorized with expires', async () => {
    // Valid for about two more seconds, given the five minutes of clock skew a token is allowed;
    // every token this credential mints carries the same exp, so renewal cannot help.
    const expiring = client('receiver', { exp: Math.floor(Date.now() / 1000) - 298 });
    const receiver = expiring.createReceiver('expiry');
    await expect(receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).resolves.toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const after = await receiver
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((e: unknown) => e);
    expect(isServiceBusError(after) && after.code).toBe('UnauthorizedAccess');
  });
});
