import type { Server } from 'node:net';
import rhea, {
  type Connection,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import type { AuthorizationDecision } from '../authorization/decision.js';
import {
  AccessTokenError,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
} from '../tokens/access-token.js';
import { Queue, type QueueStats, type StoredMessage } from './queue.js';

export const SERVICE_BUS_RESOURCE = 'https://servicebus.azure.net';

export interface ServiceBusQueueOptions {
  name: string;
  maxDeliveryCount?: number;
  lockDurationMs?: number;
}

export type ServiceBusAction = 'send' | 'listen';

export interface ServiceBusEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  queues: readonly ServiceBusQueueOptions[];
  jwks: JwksSource;
  authorize?: (
    claims: AccessTokenClaims,
    action: ServiceBusAction,
    queue: string,
  ) => AuthorizationDecision;
  log?: (event: Record<string, unknown>) => void;
}

/** The Azure data actions behind Service Bus's AMQP claims, for messages a person reads. */
const DATA_ACTIONS: Record<ServiceBusAction, string> = {
  send: 'Microsoft.ServiceBus/namespaces/queues/send/action',
  listen: 'Microsoft.ServiceBus/namespaces/queues/receive/action',
};

const BATCH_FORMAT = 0x80013700;
const DEAD_LETTER_SUFFIX = '/$deadletterqueue';

interface ConnectionState {
  /** CBS tokens put on this connection, by the resource URI they were put for. */
  tokens: Map<string, { claims: AccessTokenClaims; expiresAt: number }>;
}

/**
 * Service Bus over AMQP 1.0 with TLS, enough for @azure/service-bus: CBS token authorization
 * (put-token on $cbs, checked per link), send (single and batched), peek-lock receive with
 * complete / abandon / dead-letter, lock renewal and peek on $management, and the dead-letter
 * sub-queue.
 */
export class ServiceBusEmulator {
  private readonly queues = new Map<string, Queue>();
  private readonly container = rhea.create_container({ id: 'local-service-bus' });
  private readonly connections = new Map<Connection, ConnectionState>();
  private server?: Server;

  constructor(private readonly options: ServiceBusEmulatorOptions) {
    for (const queue of options.queues) {
      this.queues.set(
        queue.name.toLowerCase(),
        new Queue(queue.name, queue.maxDeliveryCount ?? 10, queue.lockDurationMs ?? 60_000),
      );
    }
    this.container.sasl_server_mechanisms.enable_anonymous();
    this.container.on('connection_open', (context: EventContext) => {
      this.connections.set(context.connection, { tokens: new Map() });
    });
    this.container.on('disconnected', (context: EventContext) => this.forget(context.connection));
    this.container.on('connection_close', (context: EventContext) =>
      this.forget(context.connection),
    );
    this.container.on('sender_open', (context: EventContext) => this.openSender(context));
    this.container.on('receiver_open', (context: EventContext) => this.openReceiver(context));
    this.container.on('message', (context: EventContext) => this.onMessage(context));
    this.container.on('sendable', (context: EventContext) => this.dispatch(context.sender!));
    // Peek-lock receivers (rcv-settle-mode second) send their outcome unsettled and wait for the
    // broker to settle it; receivers that settle first only raise 'settled'.
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      this.container.on(outcome, (context: EventContext) => this.onOutcome(context, outcome));
    }
    this.container.on('settled', (context: EventContext) => this.onOutcome(context, undefined));
    this.container.on('sender_close', (context: EventContext) => this.releaseLink(context.sender!));
    // A protocol error on one connection must not take the emulator down.
    this.container.on('error', (error: unknown) =>
      this.options.log?.({ event: 'service-bus-error', error: String(error) }),
    );
  }

  async start(port = this.options.port): Promise<{ port: number }> {
    const server = this.container.listen({
      port,
      host: this.options.host ?? '127.0.0.1',
      transport: 'tls',
      cert: this.options.tls.cert,
      key: this.options.tls.key,
    }) as unknown as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return { port: this.port };
  }

  /**
   * An outage: every connection is cut and the port stops answering; messages and their locks
   * stay, as a namespace's do, until resume() listens again on the same port.
   */
  async suspend(): Promise<void> {
    await this.closeServer();
  }

  async resume(): Promise<void> {
    if (!this.server) await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.closeServer();
    for (const queue of this.queues.values()) queue.close();
  }

  private async closeServer(): Promise<void> {
    for (const connection of this.connections.keys()) {
      try {
        connection.close();
      } catch {
        // already closing
      }
    }
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of this.connections.keys()) {
          (connection as unknown as { socket?: { destroy(): void } }).socket?.destroy();
        }
      });
    }
    this.connections.clear();
  }

  private port?: number;

  stats(queue: string): QueueStats {
    return this.queue(queue).stats();
  }

  deadLetters(queue: string) {
    return this.queue(queue).deadLetters.map((message) => ({
      messageId:
        message.amqp.message_id === undefined ? undefined : String(message.amqp.message_id),
      reason: message.deadLetter?.reason,
      description: message.deadLetter?.description,
      deliveryCount: message.deliveryCount,
    }));
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name.toLowerCase());
    if (!queue) throw new Error(`No queue '${name}'.`);
    return queue;
  }

  private forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  // ---- links -------------------------------------------------------------------------------

  /** The client attaches a receiver: we send to it (queue, dead-letter queue, or a reply link). */
  private openSender(context: EventContext): void {
    const sender = context.sender!;
    const address = sender.source?.address ?? '';
    if (address === '$cbs' || address.endsWith('/$management')) return; // reply links
    const entity = this.resolveEntity(address);
    if (!entity)
      return this.refuse(
        sender,
        'amqp:not-found',
        `The messaging entity '${address}' could not be found.`,
      );
    const denial = this.authorize(context.connection, entity.queue, 'listen');
    if (denial) return this.refuse(sender, 'amqp:unauthorized-access', denial);
    const state = sender as unknown as {
      queue: Queue;
      subQueue: 'active' | 'deadLetter';
      unsubscribe: () => void;
    };
    state.queue = entity.queue;
    state.subQueue = entity.subQueue;
    state.unsubscribe = entity.queue.onAvailable(() => this.dispatch(sender));
    this.dispatch(sender);
  }

  /** The client attaches a sender: we receive from it (a queue, $cbs or $management). */
  private openReceiver(context: EventContext): void {
    const receiver = context.receiver!;
    const address = receiver.target?.address ?? '';
    if (address === '$cbs') return;
    const management = address.endsWith('/$management');
    const entity = this.resolveEntity(
      management ? address.slice(0, -'/$management'.length) : address,
    );
    if (!entity)
      return this.refuse(
        receiver,
        'amqp:not-found',
        `The messaging entity '${address}' could not be found.`,
      );
    const denial = this.authorize(context.connection, entity.queue, management ? 'listen' : 'send');
    if (denial) return this.refuse(receiver, 'amqp:unauthorized-access', denial);
  }

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.options.log?.({ event: 'service-bus-link-refused', condition, description });
    link.close({ condition, description });
  }

  private resolveEntity(
    address: string,
  ): { queue: Queue; subQueue: 'active' | 'deadLetter' } | undefined {
    const path = address.replace(/^amqps?:\/\/[^/]+\//, '').replace(/^\//, '');
    const deadLetter = path.toLowerCase().endsWith(DEAD_LETTER_SUFFIX);
    const name = deadLetter ? path.slice(0, -DEAD_LETTER_SUFFIX.length) : path;
    const queue = this.queues.get(name.toLowerCase());
    return queue ? { queue, subQueue: deadLetter ? 'deadLetter' : 'active' } : undefined;
  }

  /** Returns a denial message, or undefined when a valid, authorized token covers the queue. */
  private authorize(
    connection: Connection,
    queue: Queue,
    action: ServiceBusAction,
  ): string | undefined {
    const tokens = this.connections.get(connection)?.tokens;
    const now = Date.now();
    const token = [...(tokens?.entries() ?? [])].find(
      ([audience, t]) => t.expiresAt > now && coversQueue(audience, queue.name),
    )?.[1];
    if (!token) {
      return `Unauthorized access. '${action === 'send' ? 'Send' : 'Listen'}' claim(s) are required to perform this operation. Resource: 'sb://local/${queue.name}'. No valid token was put on the connection for it.`;
    }
    const decision = this.options.authorize?.(token.claims, action, queue.name) ?? {
      allowed: true,
    };
    if (decision.allowed) return undefined;
    const who = token.claims.xms_mirid ?? token.claims.appid;
    return `Unauthorized access. '${action === 'send' ? 'Send' : 'Listen'}' claim(s) are required to perform this operation. Identity '${who}' (object id ${token.claims.oid}) lacks the data action '${DATA_ACTIONS[action]}' on queue '${queue.name}'. ${decision.message}`;
  }

  // ---- incoming messages: CBS, management, sends ------------------------------------------

  private onMessage(context: EventContext): void {
    const address = context.receiver?.target?.address ?? '';
    const message = context.message!;
    if (address === '$cbs') return this.putToken(context, message);
    if (address.endsWith('/$management'))
      return this.management(context, address.slice(0, -'/$management'.length), message);
    const entity = this.resolveEntity(address);
    if (!entity) return;
    const format = (context.delivery as unknown as { format?: number }).format;
    // rhea hands over a non-default message format undecoded, as the raw bytes.
    const messages =
      format === BATCH_FORMAT
        ? decodeBatch(rhea.message.decode(message as unknown as Buffer) as unknown as Message)
        : [message];
    for (const single of messages) entity.queue.enqueue(stripBrokerAnnotations(single));
  }

  private putToken(context: EventContext, request: Message): void {
    const props = request.application_properties ?? {};
    const audience = String(props.name ?? '');
    let status = 200;
    let description = 'OK';
    try {
      const claims = verifyAccessToken(`Bearer ${String(request.body)}`, this.options.jwks, [
        SERVICE_BUS_RESOURCE,
      ]);
      this.connections
        .get(context.connection)
        ?.tokens.set(audience, { claims, expiresAt: claims.exp * 1000 });
    } catch (error) {
      status = 401;
      description =
        error instanceof AccessTokenError ? `InvalidSignature: ${error.message}` : 'Invalid token';
      this.options.log?.({
        event: 'service-bus-cbs-rejected',
        audience,
        problem: (error as AccessTokenError).problem,
      });
    }
    this.reply(
      context,
      request,
      { 'status-code': status, 'status-description': description },
      undefined,
    );
  }

  private management(context: EventContext, entityAddress: string, request: Message): void {
    const entity = this.resolveEntity(entityAddress);
    const operation = String(request.application_properties?.operation ?? '');
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!entity) return this.reply(context, request, status(404, 'Not found'), undefined);
    const denial = this.authorize(context.connection, entity.queue, 'listen');
    if (denial) return this.reply(context, request, status(401, denial), undefined);
    if (operation === 'com.microsoft:renew-lock') {
      const tokens = (body['lock-tokens'] as unknown[]) ?? [];
      const expirations: Date[] = [];
      for (const token of tokens) {
        const renewed = lockTokenCandidates(token)
          .map((hex) => entity.queue.renew(hex))
          .find(Boolean);
        if (!renewed)
          return this.reply(
            context,
            request,
            status(
              410,
              'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
              'com.microsoft:message-lock-lost',
            ),
            undefined,
          );
        expirations.push(renewed);
      }
      return this.reply(context, request, status(200, 'OK'), { expirations });
    }
    if (operation === 'com.microsoft:peek-message') {
      const from = Number(body['from-sequence-number'] ?? 0);
      const count = Number(body['message-count'] ?? 1);
      const found =
        entity.subQueue === 'deadLetter'
          ? entity.queue.deadLetters.slice(0, count)
          : entity.queue.peek(from, count);
      if (found.length === 0) return this.reply(context, request, status(204, 'No messages'), {});
      return this.reply(context, request, status(200, 'OK'), {
        messages: found.map((m) => ({ message: rhea.message.encode(toAmqp(m)) })),
      });
    }
    return this.reply(
      context,
      request,
      status(501, `Operation '${operation}' is not supported by the local emulator.`),
      undefined,
    );
  }

  private reply(
    context: EventContext,
    request: Message,
    properties: Record<string, unknown>,
    body: unknown,
  ): void {
    const replyTo = request.reply_to;
    const senders = context.connection as unknown as {
      find_sender(filter: (s: Sender) => boolean): Sender | undefined;
    };
    const sender = senders.find_sender((s) => s.name === replyTo || s.target?.address === replyTo);
    sender?.send({
      correlation_id: request.message_id,
      to: replyTo,
      application_properties: properties,
      body,
    } as Message);
  }

  // ---- deliveries --------------------------------------------------------------------------

  private dispatch(sender: Sender): void {
    const state = sender as unknown as { queue?: Queue; subQueue: 'active' | 'deadLetter' };
    const queue = state.queue;
    if (!queue || !sender.is_open()) return;
    const receiveAndDelete =
      (sender as unknown as { snd_settle_mode?: number }).snd_settle_mode === 1;
    while (sender.sendable()) {
      const message = queue.take(state.subQueue);
      if (!message) break;
      if (receiveAndDelete) {
        sender.send(toAmqp(message));
        continue;
      }
      const lock = queue.lock(message, sender, state.subQueue);
      const tag = Buffer.from(lock.token, 'hex');
      sender.send(toAmqp(message, lock.token, lock.lockedUntil), tag);
    }
    // A receiver that asked to drain gets its unused credit back now that the queue is empty.
    if ((sender as unknown as { _draining?: boolean })._draining) sender.set_drained(true);
  }

  private onOutcome(
    context: EventContext,
    outcome: 'accepted' | 'rejected' | 'released' | 'modified' | undefined,
  ): void {
    const queue = (context.sender as unknown as { queue?: Queue } | undefined)?.queue;
    const delivery = context.delivery as unknown as {
      tag?: Buffer;
      remote_settled?: boolean;
      remote_state?: { error?: { info?: Record<string, unknown> } };
      update(settled: boolean, state?: unknown): void;
    };
    if (!queue || !delivery?.tag) return;
    const token = Buffer.from(delivery.tag).toString('hex');
    if (queue.hasLock(token)) {
      const kind = outcome ?? outcomeKind(delivery.remote_state);
      if (kind === 'accepted') queue.complete(token);
      else if (kind === 'rejected') {
        const info = delivery.remote_state?.error?.info ?? {};
        queue.deadLetter(
          token,
          String(info.DeadLetterReason ?? 'DeadLetteredByReceiver'),
          String(info.DeadLetterErrorDescription ?? ''),
        );
      } else queue.abandon(token);
    }
    // A bare settle, as the SDK expects; its rhea logs "unrecognised outcome: null" for it (harmless).
    if (outcome && !delivery.remote_settled) delivery.update(true);
  }

  private releaseLink(sender: Sender): void {
    const state = sender as unknown as { queue?: Queue; unsubscribe?: () => void };
    state.unsubscribe?.();
    state.queue?.releaseOwnedBy(sender);
  }
}

function status(code: number, description: string, condition?: string): Record<string, unknown> {
  return {
    statusCode: code,
    statusDescription: description,
    'status-code': code,
    'status-description': description,
    ...(condition ? { errorCondition: condition } : {}),
  };
}

function outcomeKind(state: unknown): 'accepted' | 'rejected' | 'released' {
  const name = (state as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? '';
  const descriptor = Number(
    (state as { type?: number; descriptor?: number } | undefined)?.type ?? NaN,
  );
  if (/accepted/i.test(name) || descriptor === 0x24) return 'accepted';
  if (/rejected/i.test(name) || descriptor === 0x25) return 'rejected';
  return 'released';
}

/** A CBS resource URI covers a queue when it names it, or names the whole namespace. */
function coversQueue(audience: string, queue: string): boolean {
  const path = audience
    .replace(/^(sb|amqps?|https?):\/\/[^/]+/i, '')
    .replace(/^\/|\/$/g, '')
    .toLowerCase();
  const entity = path.split('/')[0] ?? '';
  return entity === '' || entity === queue.toLowerCase();
}

/**
 * The SDK turns the delivery tag into a lock token string with .NET's GUID byte order and sends
 * it back as a UUID; accept the token in either byte order.
 */
function lockTokenCandidates(token: unknown): string[] {
  const value = (token as { value?: unknown })?.value ?? token;
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(String(value).replace(/-/g, ''), 'hex');
  const dotNetOrder = Buffer.from(
    [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => bytes[i] ?? 0),
  );
  return [bytes.toString('hex'), dotNetOrder.toString('hex')];
}

/** A batch (message-format 0x80013700) carries each message, encoded, in one data section. */
function decodeBatch(batch: Message): Message[] {
  const section = batch.body as { content: Buffer | Buffer[]; multiple?: boolean };
  const contents = section.multiple ? (section.content as Buffer[]) : [section.content as Buffer];
  return contents.map((content) => rhea.message.decode(content) as unknown as Message);
}

function stripBrokerAnnotations(message: Message): Record<string, unknown> {
  const { delivery_count: _count, ...rest } = message as unknown as Record<string, unknown>;
  return rest;
}

function toAmqp(message: StoredMessage, lockToken?: string, lockedUntil?: Date): Message {
  const annotations: Record<string, unknown> = {
    ...((message.amqp.message_annotations as Record<string, unknown>) ?? {}),
    'x-opt-sequence-number': rhea.types.wrap_long(message.sequenceNumber),
    'x-opt-enqueued-time': message.enqueuedAt,
  };
  if (lockedUntil) annotations['x-opt-locked-until'] = lockedUntil;
  if (lockToken)
    annotations['x-opt-lock-token'] = rhea.types.wrap_uuid(Buffer.from(lockToken, 'hex'));
  const applicationProperties = {
    ...((message.amqp.application_properties as Record<string, unknown>) ?? {}),
  };
  if (message.deadLetter) {
    applicationProperties.DeadLetterReason = message.deadLetter.reason;
    applicationProperties.DeadLetterErrorDescription = message.deadLetter.description;
  }
  return {
    ...message.amqp,
    delivery_count: message.deliveryCount,
    message_annotations: annotations,
    application_properties: applicationProperties,
  } as unknown as Message;
}
