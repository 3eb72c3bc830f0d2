import rhea, { type EventContext, type Message } from 'rhea';
import type { StoredMessage } from './queue.js';

const BATCH_FORMAT = 0x80013700;

/** What a transfer carried: its messages (one, or a batch's) and its size on the wire. */
export interface Transfer {
  messages: Record<string, unknown>[];
  size: number;
}

/**
 * Decodes a transfer. rhea hands over a non-default message format (a batch, 0x80013700)
 * undecoded, as bytes; a batch carries each message, encoded, in one data section.
 */
export function decodeTransfer(context: EventContext): Transfer {
  const format =
    (context as unknown as { format?: number }).format ??
    (context.delivery as unknown as { format?: number }).format;
  const message = context.message as unknown;
  if (format === BATCH_FORMAT && Buffer.isBuffer(message)) {
    const batch = rhea.message.decode(message) as unknown as Message;
    // An empty batch (the SDK sends one as is) has no data section at all.
    const section = batch.body as { content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
    const contents =
      section?.content === undefined
        ? []
        : section.multiple
          ? (section.content as Buffer[])
          : [section.content as Buffer];
    return {
      size: message.length,
      messages: contents.map((content) =>
        withoutBrokerAnnotations(rhea.message.decode(content) as unknown as Message),
      ),
    };
  }
  if (Buffer.isBuffer(message))
    throw new TypeError(`Unsupported message format ${String(format)}.`);
  const decoded = message as Message;
  return {
    size: rhea.message.encode(decoded).length,
    messages: [withoutBrokerAnnotations(decoded)],
  };
}

/** The message as stored: broker-owned fields (delivery count, sequence, lock) are the broker's. */
export function withoutBrokerAnnotations(message: Message): Record<string, unknown> {
  const { delivery_count: _count, ...rest } = message as unknown as Record<string, unknown>;
  const annotations = { ...((rest.message_annotations as Record<string, unknown>) ?? {}) };
  for (const owned of [
    'x-opt-sequence-number',
    'x-opt-enqueued-time',
    'x-opt-locked-until',
    'x-opt-lock-token',
    'x-opt-enqueue-sequence-number',
  ]) {
    delete annotations[owned];
  }
  return { ...rest, message_annotations: annotations };
}

export function toAmqp(message: StoredMessage, lockToken?: string, lockedUntil?: Date): Message {
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
