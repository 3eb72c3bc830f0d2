import rhea, { type EventContext, type Message, type Sender } from 'rhea';

/**
 * Status codes as Service Bus types them: int on the wire (`status-code` for CBS, `statusCode`
 * for management). The .NET client reads them as int and treats anything else as a failure.
 */
export function cbsStatus(code: number, description: string): Record<string, unknown> {
  return {
    'status-code': rhea.types.wrap_int(code),
    'status-description': description,
  };
}

/** Service Bus's words when a settlement or renewal names a lock that is not held (any path). */
export const LOCK_LOST_DESCRIPTION =
  'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.';

export function managementStatus(
  code: number,
  description: string,
  condition?: string,
): Record<string, unknown> {
  return {
    statusCode: rhea.types.wrap_int(code),
    statusDescription: description,
    ...(condition ? { errorCondition: rhea.types.wrap_symbol(condition) } : {}),
  };
}

/** Answers a request-response message ($cbs, $management) on the reply link the client named. */
export function reply(
  context: EventContext,
  request: Message,
  properties: Record<string, unknown>,
  body: unknown,
): void {
  const replyTo = request.reply_to;
  const connection = context.connection as unknown as {
    find_sender(filter: (s: Sender) => boolean): Sender | undefined;
  };
  const sender = connection.find_sender(
    (s) => s.is_open() && (s.name === replyTo || s.target?.address === replyTo),
  );
  sender?.send({
    correlation_id: request.message_id ?? request.correlation_id,
    to: replyTo,
    application_properties: properties,
    body,
  } as Message);
}
