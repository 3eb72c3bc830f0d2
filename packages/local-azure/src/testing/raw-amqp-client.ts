import rhea, { type Connection, type EventContext, type Message } from 'rhea';

/** What a hostile AMQP client saw for one transfer it pushed onto a link. */
export interface RawSendOutcome {
  /** The disposition the broker gave the delivery ('accepted', 'rejected', ...) or 'none'. */
  disposition: string;
  /** The link's detach error condition, when the broker detached it. */
  detachCondition?: string;
  detachDescription?: string;
  /** The broker closed the whole connection (a session error). */
  connectionDropped?: boolean;
}

/**
 * A raw AMQP 1.0 client for adversarial tests: it does what no SDK does, such as pushing a
 * transfer onto a link the broker refused, without credit, before or without a CBS token.
 */
export class RawAmqpClient {
  private constructor(private readonly connection: Connection) {}

  static async connect(port: number, ca: string): Promise<RawAmqpClient> {
    const container = rhea.create_container({ id: `raw-${Math.random().toString(16).slice(2)}` });
    const connection = container.connect({
      host: 'localhost',
      port,
      transport: 'tls',
      ca,
      servername: 'localhost',
      reconnect: false,
    } as unknown as Parameters<typeof container.connect>[0]);
    connection.on('connection_error', () => undefined);
    connection.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      connection.once('disconnected', (context: EventContext) =>
        reject(new Error(`disconnected: ${String(context.error)}`)),
      );
    });
    return new RawAmqpClient(connection);
  }

  /** Puts a token on $cbs and returns the CBS status code the broker answered. */
  async putToken(audience: string, token: string): Promise<number> {
    const receiver = this.connection.open_receiver({ source: { address: '$cbs' } });
    const sender = this.connection.open_sender({ target: { address: '$cbs' } });
    await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
    const replyTo = receiver.name;
    const answer = new Promise<number>((resolve) =>
      receiver.once('message', (context: EventContext) =>
        resolve(Number(context.message?.application_properties?.['status-code'])),
      ),
    );
    sender.send({
      message_id: 'put-1',
      reply_to: replyTo,
      application_properties: {
        operation: 'put-token',
        type: 'jwt',
        name: audience,
        expiration: Date.now() + 3600_000,
      },
      body: token,
    } as Message);
    return answer;
  }

  /**
   * Attaches a sender to `address` and pushes `message` at once, without waiting for credit or
   * for the broker's attach: the transfer arrives whatever the broker decided about the link.
   */
  async sendRegardless(address: string, message: Message, waitMs = 1500): Promise<RawSendOutcome> {
    const sender = this.connection.open_sender({ target: { address } });
    const outcome: RawSendOutcome = { disposition: 'none' };
    sender.on('sender_error', () => undefined);
    sender.on('sender_close', (context: EventContext) => {
      const error = context.sender?.error as
        { condition?: string; description?: string } | undefined;
      outcome.detachCondition = error?.condition;
      outcome.detachDescription = error?.description;
    });
    for (const kind of ['accepted', 'rejected', 'released', 'modified'] as const) {
      sender.on(kind, () => (outcome.disposition = kind));
    }
    this.connection.on('disconnected', () => (outcome.connectionDropped = true));
    // Once the attach is on the wire (rhea writes on the next tick) and before the broker's
    // answer can come back, push the transfer, ignoring credit: a hostile peer need not wait.
    await new Promise((resolve) => setImmediate(resolve));
    (sender as unknown as { credit: number }).credit = 1;
    sender.send(message);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return outcome;
  }

  /** An AMQP array of UUIDs, as the SDKs send lock tokens. */
  static lockTokens(...tokens: Buffer[]): unknown {
    return rhea.types.wrap_array(tokens, 0x98, undefined);
  }

  /**
   * Sends one request to `entity`/$management with `body` as it is (no SDK shapes it first) and
   * returns the broker's status, description and error condition.
   */
  async managementRequest(
    entity: string,
    operation: string,
    body: unknown,
  ): Promise<{ status: number; description: string; condition?: string }> {
    const address = `${entity}/$management`;
    const receiver = this.connection.open_receiver({ source: { address } });
    const sender = this.connection.open_sender({ target: { address } });
    await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
    const answer = new Promise<{ status: number; description: string; condition?: string }>(
      (resolve) =>
        receiver.once('message', (context: EventContext) => {
          const properties = context.message?.application_properties ?? {};
          resolve({
            status: Number(properties.statusCode),
            description: String(properties.statusDescription ?? ''),
            condition: properties.errorCondition as string | undefined,
          });
        }),
    );
    sender.send({
      message_id: `${operation}-1`,
      reply_to: receiver.name,
      application_properties: { operation },
      body,
    } as Message);
    return answer;
  }

  close(): void {
    try {
      this.connection.close();
    } catch {
      // gone already
    }
  }
}
