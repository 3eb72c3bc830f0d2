import type { Server } from 'node:net';
import rhea, {
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import type { AuthorizationDecision } from '../authorization/decision.js';
import {
  AccessTokenError,
  CLOCK_SKEW_SECONDS,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
  type TokenIssuerPolicy,
} from '../tokens/access-token.js';
import { cbsStatus, LOCK_LOST_DESCRIPTION, managementStatus, reply } from './amqp-replies.js';
import {
  ServiceBusEntities,
  type ResolvedEntity,
  type ServiceBusEntityRef,
  type ServiceBusQueueOptions,
  type ServiceBusTopicOptions,
} from './entities.js';
import { claimName, ConnectionTokens, type ServiceBusAction } from './link-grants.js';
import { handleManagement } from './management.js';
import type { Queue, QueueStats } from './queue.js';
import { enableServiceBusSasl } from './sasl.js';
import { decodeTransfer, toAmqp } from './wire-messages.js';

export const SERVICE_BUS_RESOURCE = 'https://servicebus.azure.net';

/** The Standard tier's message size limit; Premium allows up to 100 MB per entity. */
export const STANDARD_MAX_MESSAGE_SIZE = 256 * 1024;

export type { ServiceBusAction } from './link-grants.js';
export type {
  ServiceBusEntityRef,
  ServiceBusQueueOptions,
  ServiceBusTopicOptions,
} from './entities.js';

export interface ServiceBusEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  queues: readonly ServiceBusQueueOptions[];
  topics?: readonly ServiceBusTopicOptions[];
  jwks: JwksSource;
  /** Who may issue the tokens put on $cbs. */
  issuer: TokenIssuerPolicy;
  /** Required: with no decision there is no access. */
  authorize: (
    claims: AccessTokenClaims,
    action: ServiceBusAction,
    entity: ServiceBusEntityRef,
  ) => AuthorizationDecision;
  /** Bytes per message; Standard's 256 KB by default. */
  maxMessageSize?: number;
  log?: (event: Record<string, unknown>) => void;
}

/** What a link was attached for, kept on the link and re-checked whenever it is used. */
interface LinkGrant {
  entity: ResolvedEntity;
  action: ServiceBusAction;
  unsubscribe?: () => void;
}

/** rhea's outcome constructors are on its message module, untyped. */
const ACCEPTED = () =>
  (rhea.message as unknown as { accepted(): { described(): unknown } }).accepted().described();

const LOCK_LOST = () =>
  (
    rhea.message as unknown as {
      rejected(fields: unknown): { described(): unknown };
    }
  )
    .rejected({
      error: {
        condition: 'com.microsoft:message-lock-lost',
        description: LOCK_LOST_DESCRIPTION,
      },
    })
    .described();

const grants = new WeakMap<Sender | Receiver, LinkGrant>();

/**
 * Service Bus over AMQP 1.0 with TLS, as the SDKs of every language speak it: SASL MSSBCBS or
 * ANONYMOUS, CBS put-token on $cbs, attach frames that echo source and target and carry the
 * entity's max-message-size, sends (single and batched) checked against the link's rights on
 * every transfer, peek-lock receive with complete / abandon / dead-letter settled with their
 * outcome, the management operations (renew-lock, update-disposition, peek, schedule, cancel),
 * queues with their dead-letter sub-queue, and topics with subscriptions. Links whose token
 * expires are detached; the locks of a closed link stay until settled or expired.
 */
export class ServiceBusEmulator {
  private readonly entities: ServiceBusEntities;
  // Links whose token expired are detached at once (Service Bus force-detaches them).
  private readonly tokens = new ConnectionTokens((connection) =>
    this.detachExpiredLinks(connection),
  );
  private readonly container = rhea.create_container({
    id: 'local-service-bus',
    // Every transfer is accepted or rejected by the emulator itself, after its checks.
    autoaccept: false,
  } as unknown as Parameters<typeof rhea.create_container>[0]);
  private readonly connections = new Set<Connection>();
  private readonly maxMessageSize: number;
  private server?: Server;
  private port?: number;

  constructor(private readonly options: ServiceBusEmulatorOptions) {
    this.entities = new ServiceBusEntities(options.queues, options.topics);
    this.maxMessageSize = options.maxMessageSize ?? STANDARD_MAX_MESSAGE_SIZE;
    enableServiceBusSasl(this.container);
    this.container.on('connection_open', (context: EventContext) => {
      this.connections.add(context.connection);
    });
    this.container.on('disconnected', (context: EventContext) => this.forget(context.connection));
    this.container.on('connection_close', (context: EventContext) =>
      this.connections.delete(context.connection),
    );
    this.container.on('sender_open', (context: EventContext) =>
      this.guard(context, () => this.openSender(context.sender!)),
    );
    this.container.on('receiver_open', (context: EventContext) =>
      this.guard(context, () => this.openReceiver(context.receiver!)),
    );
    this.container.on('message', (context: EventContext) =>
      this.guard(context, () => this.onMessage(context)),
    );
    this.container.on('sendable', (context: EventContext) =>
      this.guard(context, () => this.dispatch(context.sender!)),
    );
    // Peek-lock receivers (rcv-settle-mode second) send their outcome unsettled and wait for the
    // broker to settle it; receivers that settle first only raise 'settled'.
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      this.container.on(outcome, (context: EventContext) =>
        this.guard(context, () => this.onOutcome(context, outcome)),
      );
    }
    this.container.on('settled', (context: EventContext) =>
      this.guard(context, () => this.onOutcome(context, undefined)),
    );
    this.container.on('sender_close', (context: EventContext) => this.releaseLink(context.sender!));
    this.container.on('sender_error', () => undefined);
    this.container.on('receiver_error', () => undefined);
    this.container.on('connection_error', () => undefined);
    this.container.on('protocol_error', (context: EventContext) =>
      this.options.log?.({ event: 'service-bus-protocol-error', error: String(context.error) }),
    );
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
    // A TLS handshake that fails (a port scan, plain TCP) ends that socket only.
    server.on('tlsClientError', () => undefined);
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
    for (const queue of this.entities.all()) queue.close();
  }

  stats(entity: string): QueueStats {
    return this.queue(entity).stats();
  }

  deadLetters(entity: string) {
    return this.queue(entity).deadLetters.map((message) => ({
      messageId:
        message.amqp.message_id === undefined ? undefined : String(message.amqp.message_id),
      reason: message.deadLetter?.reason,
      description: message.deadLetter?.description,
      deliveryCount: message.deliveryCount,
    }));
  }

  private async closeServer(): Promise<void> {
    for (const connection of this.connections) {
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
        for (const connection of this.connections) {
          (connection as unknown as { socket?: { destroy(): void } }).socket?.destroy();
        }
      });
    }
    this.connections.clear();
  }

  /**
   * A connection that dropped (a killed client: a TCP reset, no detach) takes its links with it:
   * they stop listening for messages. What they held stays locked until the lock expires, as on
   * Service Bus, and then goes back to the queue for the next receiver.
   */
  private forget(connection: Connection): void {
    this.connections.delete(connection);
    (connection as unknown as { each_link(fn: (link: Sender | Receiver) => void): void }).each_link(
      (link) => {
        grants.get(link)?.unsubscribe?.();
        grants.delete(link);
      },
    );
  }

  private queue(name: string): Queue {
    const source = this.entities.resolve(name)?.source;
    if (!source) throw new Error(`No queue or subscription '${name}'.`);
    return source;
  }

  /** An error in one handler fails that connection's request, never the process. */
  private guard(context: EventContext, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.options.log?.({
        event: 'service-bus-handler-error',
        error: String(error),
        stack: (error as Error).stack,
      });
      try {
        context.connection.close({
          condition: 'amqp:internal-error',
          description: 'The service was unable to process the request.',
        });
      } catch {
        // the connection is already gone
      }
    }
  }

  // ---- links -------------------------------------------------------------------------------

  /** Echoes the terminus the client asked for, as Service Bus does: .NET reads a null one as refusal. */
  private echo(link: Sender | Receiver): void {
    const remote = (link as unknown as { remote: { attach?: Record<string, unknown> } }).remote
      .attach;
    const local = link as unknown as {
      set_source(fields: unknown): void;
      set_target(fields: unknown): void;
      local: { attach: Record<string, unknown> };
    };
    if (remote?.source) local.set_source(remote.source);
    if (remote?.target) local.set_target(remote.target);
    local.local.attach.max_message_size = this.maxMessageSize;
  }

  /** The client attaches a receiver: we send to it (an entity, a sub-queue, or a reply link). */
  private openSender(sender: Sender): void {
    this.echo(sender);
    const address = sender.source?.address ?? '';
    // Reply links of $cbs and $management: they only ever carry answers to this client's requests.
    if (address === '$cbs' || /(^|\/)\$management$/i.test(address)) return;
    const entity = this.entities.resolve(address);
    if (!entity?.source) {
      return this.refuse(
        sender,
        'amqp:not-found',
        `The messaging entity '${address}' could not be found.`,
      );
    }
    const denial = this.authorize(sender.connection, entity.ref, 'listen');
    if (denial) return this.refuse(sender, 'amqp:unauthorized-access', denial);
    const source = entity.source;
    grants.set(sender, {
      entity,
      action: 'listen',
      unsubscribe: source.onAvailable(() => this.guardedDispatch(sender)),
    });
    this.dispatch(sender);
  }

  /** The client attaches a sender: we receive from it (an entity, $cbs or $management). */
  private openReceiver(receiver: Receiver): void {
    this.echo(receiver);
    const address = receiver.target?.address ?? '';
    if (address === '$cbs') return this.grantCredit(receiver);
    const entity = this.entities.resolve(address);
    if (!entity) {
      return this.refuse(
        receiver,
        'amqp:not-found',
        `The messaging entity '${address}' could not be found.`,
      );
    }
    if (entity.management) {
      // Each management operation is authorized on its own (schedule needs Send, peek Listen).
      grants.set(receiver, { entity, action: 'listen' });
      return this.grantCredit(receiver);
    }
    if (entity.subQueue !== 'active') {
      return this.refuse(
        receiver,
        'amqp:not-allowed',
        `Cannot send to the sub-queue '${address}': a dead-letter queue receives only what the broker moves there.`,
      );
    }
    const denial = this.authorize(receiver.connection, entity.ref, 'send');
    if (denial) return this.refuse(receiver, 'amqp:unauthorized-access', denial);
    grants.set(receiver, { entity, action: 'send' });
    this.grantCredit(receiver);
  }

  private grantCredit(receiver: Receiver): void {
    const link = receiver as unknown as { credit: number; add_credit(n: number): void };
    if (link.credit < 100) link.add_credit(500 - link.credit);
  }

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.options.log?.({ event: 'service-bus-link-refused', condition, description });
    // Refused at attach: answer with no terminus, AMQP's "link refused" (2.6.3), so the client
    // waits for the detach and reports its error. An echoed terminus made .NET take the link as
    // open and, about one time in two, report the detach as ServiceCommunicationProblem instead of
    // UnauthorizedAccess. A link already open (token expired) has sent its attach: no effect.
    const attach = (link as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
    if (link.is_receiver()) attach.target = null;
    else attach.source = null;
    link.close({ condition, description });
  }

  /** A denial message, or undefined when a valid token on the connection grants the action. */
  private authorize(
    connection: Connection,
    entity: ServiceBusEntityRef,
    action: ServiceBusAction,
  ): string | undefined {
    const resource = `sb://local/${entityPath(entity)}`;
    const token = this.tokens.find(connection, entity);
    if (!token) {
      return `Unauthorized access. '${claimName(action)}' claim(s) are required to perform this operation. Resource: '${resource}'. No valid token was put on the connection for it.`;
    }
    const decision = this.options.authorize(token.claims, action, entity);
    if (decision.allowed) return undefined;
    const who = token.claims.xms_mirid ?? token.claims.appid;
    return `Unauthorized access. '${claimName(action)}' claim(s) are required to perform this operation. Resource: '${resource}'. Identity '${who}' (object id ${token.claims.oid}): ${decision.message}`;
  }

  /** Service Bus detaches a link whose token expired or no longer grants its action. */
  private detachExpiredLinks(only?: Connection): void {
    for (const connection of only ? [only] : this.connections) {
      const links = connection as unknown as {
        each_link(fn: (link: Sender | Receiver) => void): void;
      };
      links.each_link((link) => {
        const grant = grants.get(link);
        if (!grant || grant.entity.management || !link.is_open()) return;
        const denial = this.authorize(connection, grant.entity.ref, grant.action);
        if (denial) {
          this.detach(
            link,
            `The link '${link.name}' is force detached. Code: TokenExpired. Details: ${denial}`,
          );
        }
      });
    }
  }

  private detach(link: Sender | Receiver, description: string): void {
    grants.get(link)?.unsubscribe?.();
    grants.delete(link);
    this.refuse(link, 'amqp:unauthorized-access', description);
  }

  // ---- incoming messages: CBS, management, sends ------------------------------------------

  private onMessage(context: EventContext): void {
    const receiver = context.receiver!;
    const delivery = context.delivery!;
    const address = receiver.target?.address ?? '';
    if (address === '$cbs') {
      delivery.accept();
      return void this.putToken(context, context.message!).catch((error: unknown) =>
        this.options.log?.({ event: 'service-bus-handler-error', error: String(error) }),
      );
    }
    const grant = grants.get(receiver);
    if (!grant) {
      // A link that was refused at attach (or never authorized) carries nothing.
      return reject(delivery, 'amqp:unauthorized-access', 'The link is not authorized.');
    }
    if (grant.entity.management) {
      delivery.accept();
      return handleManagement(context, context.message!, grant.entity, {
        authorize: (action) => this.authorize(context.connection, grant.entity.ref, action),
        maxMessageSize: this.maxMessageSize,
      });
    }
    // Rights are checked on every transfer, not only at attach: a token can expire or be replaced.
    const denial = this.authorize(context.connection, grant.entity.ref, 'send');
    if (denial) {
      reject(delivery, 'amqp:unauthorized-access', denial);
      return this.detach(receiver, denial);
    }
    const transfer = decodeTransfer(context);
    if (transfer.size > this.maxMessageSize) {
      return reject(
        delivery,
        'amqp:link:message-size-exceeded',
        `The received message (delivery-id:${String((delivery as unknown as { id?: number }).id)}, size:${transfer.size} bytes) exceeds the limit (${this.maxMessageSize} bytes) currently allowed on the link.`,
      );
    }
    for (const message of transfer.messages) {
      const annotations = message.message_annotations as Record<string, unknown> | undefined;
      const scheduledAt = annotations?.['x-opt-scheduled-enqueue-time'];
      for (const queue of grant.entity.targets) {
        if (scheduledAt instanceof Date && scheduledAt.getTime() > Date.now()) {
          queue.schedule(message, scheduledAt);
        } else queue.enqueue(message);
      }
    }
    delivery.accept();
  }

  private async putToken(context: EventContext, request: Message): Promise<void> {
    const props = request.application_properties ?? {};
    const audience = String(props.name ?? '');
    try {
      if (props.operation !== 'put-token') {
        throw new AccessTokenError(
          'malformed',
          `Unsupported CBS operation '${String(props.operation)}'.`,
        );
      }
      if (typeof request.body !== 'string') {
        throw new AccessTokenError('malformed', 'The token must be a string.');
      }
      const claims = await verifyAccessToken(
        `Bearer ${request.body}`,
        this.options.jwks,
        [SERVICE_BUS_RESOURCE],
        this.options.issuer,
      );
      // Expired when verification would call it expired: exp plus the allowed clock skew.
      this.tokens.put(context.connection, {
        audience,
        claims,
        expiresAt: (claims.exp + CLOCK_SKEW_SECONDS) * 1000,
      });
      reply(context, request, cbsStatus(202, 'Accepted'), undefined);
      // A renewed token replaces the old one: links it no longer covers are detached now.
      this.detachExpiredLinks(context.connection);
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      const description = {
        missing: 'InvalidToken: The token is missing.',
        malformed: 'InvalidToken: The token is malformed.',
        'bad-signature': 'InvalidSignature: The token has an invalid signature.',
        'wrong-audience':
          'InvalidAudience: The authorization header contains a token with a wrong audience.',
        'wrong-issuer': 'InvalidIssuer: Token issuer is invalid.',
        'wrong-tenant': 'InvalidIssuer: Token issuer is invalid.',
        expired: 'ExpiredToken: The token is expired.',
        'not-yet-valid': 'InvalidToken: The token is not yet valid.',
      }[problem];
      this.options.log?.({ event: 'service-bus-cbs-rejected', audience, problem });
      reply(context, request, cbsStatus(401, description), undefined);
    }
  }

  // ---- deliveries --------------------------------------------------------------------------

  private guardedDispatch(sender: Sender): void {
    try {
      this.dispatch(sender);
    } catch (error) {
      this.options.log?.({
        event: 'service-bus-handler-error',
        error: String(error),
        stack: (error as Error).stack,
      });
    }
  }

  private dispatch(sender: Sender): void {
    const grant = grants.get(sender);
    const queue = grant?.entity.source;
    if (!grant || !queue || !sender.is_open()) return;
    const subQueue = grant.entity.subQueue;
    const receiveAndDelete =
      (sender as unknown as { snd_settle_mode?: number }).snd_settle_mode === 1;
    while (sender.sendable() && creditLeft(sender) > 0) {
      const message = queue.take(subQueue);
      if (!message) break;
      if (receiveAndDelete || subQueue === 'transferDeadLetter') {
        send(sender, toAmqp(message));
        continue;
      }
      const lock = queue.lock(message, subQueue);
      const tag = Buffer.from(lock.token, 'hex');
      send(sender, toAmqp(message, lock.token, lock.lockedUntil), tag);
    }
    // A receiver that asked to drain gets its unused credit back now that the queue is empty.
    if ((sender as unknown as { _draining?: boolean })._draining) sender.set_drained(true);
  }

  private onOutcome(
    context: EventContext,
    outcome: 'accepted' | 'rejected' | 'released' | 'modified' | undefined,
  ): void {
    const sender = context.sender;
    const queue = sender ? grants.get(sender)?.entity.source : undefined;
    const delivery = context.delivery as unknown as {
      tag?: Buffer;
      remote_settled?: boolean;
      settled?: boolean;
      remote_state?: {
        error?: { info?: Record<string, unknown> };
      };
      update(settled: boolean, state?: unknown): void;
    };
    // rhea raises the outcome event and then 'settled' for the same delivery: act once.
    if (!queue || !delivery?.tag || delivery.settled) return;
    const token = Buffer.from(delivery.tag).toString('hex');
    const kind = outcome ?? outcomeKind(delivery.remote_state);
    const held = queue.hasLock(token);
    if (held) {
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
    // The broker settles with the result of the settlement: accepted when it was done, rejected
    // with message-lock-lost when the lock had expired. (A bare settle, with no outcome, makes
    // rhea clients log "unrecognised outcome: null".)
    if (outcome && !delivery.remote_settled) {
      delivery.update(true, held ? ACCEPTED() : LOCK_LOST());
    }
  }

  // A closed link keeps its locks: they belong to the messages, which are settled over
  // $management or come back when the lock expires, as in Service Bus.
  private releaseLink(sender: Sender): void {
    const grant = grants.get(sender);
    grant?.unsubscribe?.();
    grants.delete(sender);
  }
}

/** How many transfers each entity link has been handed, counted as the receiver counts them. */
const handedOut = new WeakMap<Sender, number>();

/**
 * The link credit the receiver has left for us. rhea takes a transfer off `credit` only when it
 * writes it out (after this turn of the event loop), so `sendable()` stays true while a loop
 * queues deliveries: without this count one flow of 8 would hand the whole queue to the client,
 * every message locked (its lock running) while it waits in the client's buffer. The receiver
 * allows deliveries up to its delivery-count + link-credit; rhea keeps credit + delivery_count
 * equal to that limit, so what is left is that limit less what we have handed out.
 */
function creditLeft(sender: Sender): number {
  const link = sender as unknown as { credit: number; delivery_count: number };
  return link.credit + link.delivery_count - (handedOut.get(sender) ?? 0);
}

function send(sender: Sender, message: Message, tag?: Buffer): void {
  handedOut.set(sender, (handedOut.get(sender) ?? 0) + 1);
  sender.send(message, tag);
}

function reject(delivery: Delivery, condition: string, description: string): void {
  delivery.reject({ condition, description });
}

function entityPath(entity: ServiceBusEntityRef): string {
  return entity.subscription ? `${entity.name}/subscriptions/${entity.subscription}` : entity.name;
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

export { managementStatus };
