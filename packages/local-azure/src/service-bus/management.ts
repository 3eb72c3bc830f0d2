import rhea, { type EventContext, type Message } from 'rhea';
import { LOCK_LOST_DESCRIPTION, managementStatus, reply } from './amqp-replies.js';
import type { ResolvedEntity } from './entities.js';
import type { ServiceBusAction } from './link-grants.js';
import type { StoredMessage } from './queue.js';
import { toAmqp, withoutBrokerAnnotations } from './wire-messages.js';

export interface ManagementContext {
  /** A denial message, or undefined when the connection's token grants the action. */
  authorize(action: ServiceBusAction): string | undefined;
  maxMessageSize: number;
}

/** The right each operation needs, as Service Bus checks it: scheduling is sending. */
const OPERATION_RIGHTS: Record<string, ServiceBusAction> = {
  'com.microsoft:renew-lock': 'listen',
  'com.microsoft:update-disposition': 'listen',
  'com.microsoft:peek-message': 'listen',
  'com.microsoft:schedule-message': 'send',
  'com.microsoft:cancel-scheduled-message': 'send',
};

/** update-disposition's statuses (Service Bus spells deferral "defered"), as the queue settles them. */
const DISPOSITIONS = ['completed', 'abandoned', 'suspended'] as const;

/**
 * The entity's $management node (request-response over AMQP): renew-lock, update-disposition,
 * peek, schedule-message and cancel-scheduled-message, each authorized with its own right. Other
 * operations (and deferral, which the emulator does not keep) are answered 501, never ignored.
 */
export function handleManagement(
  context: EventContext,
  request: Message,
  entity: ResolvedEntity,
  management: ManagementContext,
): void {
  const operation = String(request.application_properties?.operation ?? '');
  const answer = (code: number, description: string, body?: unknown, condition?: string) =>
    reply(context, request, managementStatus(code, description, condition), body);
  const right = OPERATION_RIGHTS[operation];
  if (!right) {
    return answer(
      501,
      `The operation '${operation.slice(0, 80)}' is not supported by the local emulator.`,
      undefined,
      'com.microsoft:not-implemented',
    );
  }
  const denial = management.authorize(right);
  if (denial) return answer(401, denial, undefined, 'amqp:unauthorized-access');
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null) {
    return answer(400, 'The request body must be a map.', undefined, 'amqp:invalid-field');
  }
  const queue = entity.source;
  if (
    operation === 'com.microsoft:schedule-message' ||
    operation === 'com.microsoft:cancel-scheduled-message'
  ) {
    if (entity.subQueue !== 'active') {
      return answer(400, 'Cannot schedule messages on a sub-queue.', undefined, 'amqp:not-allowed');
    }
  } else if (!queue) {
    return answer(
      404,
      'A topic has no messages of its own: receive from a subscription.',
      undefined,
      'amqp:not-found',
    );
  }

  if (operation === 'com.microsoft:renew-lock') {
    const tokens = Array.isArray(body['lock-tokens']) ? (body['lock-tokens'] as unknown[]) : [];
    const expirations: Date[] = [];
    for (const token of tokens) {
      const renewed = lockTokenCandidates(token)
        .map((hex) => queue!.renew(hex))
        .find(Boolean);
      if (!renewed) {
        return answer(410, LOCK_LOST_DESCRIPTION, undefined, 'com.microsoft:message-lock-lost');
      }
      expirations.push(renewed);
    }
    return answer(200, 'OK', { expirations });
  }
  if (operation === 'com.microsoft:update-disposition') {
    // The SDKs settle here when the link a message came on is gone (a reconnect, a closed
    // receiver): the lock belongs to the message, not to the link.
    const status = body['disposition-status'];
    if (status === 'defered') {
      return answer(
        501,
        'Deferral is not supported by the local emulator.',
        undefined,
        'com.microsoft:not-implemented',
      );
    }
    if (!DISPOSITIONS.includes(status as (typeof DISPOSITIONS)[number])) {
      return answer(
        400,
        'disposition-status must be completed, abandoned, suspended or defered.',
        undefined,
        'amqp:invalid-field',
      );
    }
    const tokens = Array.isArray(body['lock-tokens']) ? (body['lock-tokens'] as unknown[]) : [];
    if (tokens.length === 0) {
      return answer(
        400,
        'lock-tokens must list at least one lock token.',
        undefined,
        'amqp:invalid-field',
      );
    }
    // Every token is checked before any is settled: a request with one lost lock changes nothing.
    const held = tokens.map((token) =>
      lockTokenCandidates(token).find((hex) => queue!.hasLock(hex)),
    );
    if (held.some((hex) => hex === undefined)) {
      return answer(410, LOCK_LOST_DESCRIPTION, undefined, 'com.microsoft:message-lock-lost');
    }
    for (const hex of held as string[]) {
      if (status === 'completed') queue!.complete(hex);
      else if (status === 'abandoned') queue!.abandon(hex);
      else
        queue!.deadLetter(
          hex,
          text(body['deadletter-reason']) ?? 'DeadLetteredByReceiver',
          text(body['deadletter-description']) ?? '',
        );
    }
    return answer(200, 'OK', {});
  }
  if (operation === 'com.microsoft:peek-message') {
    const from = toNumber(body['from-sequence-number']) ?? 0;
    const count = Math.min(Math.max(toNumber(body['message-count']) ?? 1, 1), 1000);
    const found: StoredMessage[] =
      entity.subQueue === 'active'
        ? queue!.peek(from, count)
        : entity.subQueue === 'deadLetter'
          ? queue!.deadLetters.filter((m) => m.sequenceNumber >= from).slice(0, count)
          : [];
    if (found.length === 0) return answer(204, 'No messages');
    return answer(200, 'OK', {
      messages: found.map((m) => ({ message: rhea.message.encode(toAmqp(m)) })),
    });
  }
  if (operation === 'com.microsoft:schedule-message') {
    const entries = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
    const decoded: Record<string, unknown>[] = [];
    for (const entry of entries) {
      const bytes = (entry as { message?: unknown })?.message;
      if (!Buffer.isBuffer(bytes))
        return answer(
          400,
          'Each scheduled message must be encoded bytes.',
          undefined,
          'amqp:invalid-field',
        );
      if (bytes.length > management.maxMessageSize) {
        return answer(
          413,
          `The message size (${bytes.length} bytes) exceeds the limit (${management.maxMessageSize} bytes).`,
          undefined,
          'amqp:link:message-size-exceeded',
        );
      }
      decoded.push(withoutBrokerAnnotations(rhea.message.decode(bytes) as unknown as Message));
    }
    const sequenceNumbers: unknown[] = [];
    for (const message of decoded) {
      const at = (message.message_annotations as Record<string, unknown>)[
        'x-opt-scheduled-enqueue-time'
      ];
      const when = at instanceof Date ? at : new Date();
      // A topic's scheduled message is scheduled in each subscription; the first number names it.
      const scheduled = entity.targets.map((target) => target.schedule(message, when));
      sequenceNumbers.push(rhea.types.wrap_long(scheduled[0]?.sequenceNumber ?? 0));
    }
    return answer(200, 'OK', { 'sequence-numbers': sequenceNumbers });
  }
  // cancel-scheduled-message
  const numbers = body['sequence-numbers'];
  const list = Array.isArray(numbers) ? numbers : [];
  for (const value of list) {
    const sequenceNumber = toNumber(value);
    if (sequenceNumber === undefined)
      return answer(400, 'Invalid sequence number.', undefined, 'amqp:invalid-field');
    for (const target of entity.targets) target.cancelScheduled(sequenceNumber);
  }
  return answer(200, 'OK', {});
}

/** A dead-letter reason or description: a string of at most 4096 characters, as Service Bus allows. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 4096) : undefined;
}

/** An AMQP long arrives as a number, or as 8 big-endian bytes. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  const wrapped = (value as { value?: unknown } | undefined)?.value;
  if (wrapped !== undefined && wrapped !== value) return toNumber(wrapped);
  return undefined;
}

/**
 * The SDKs turn the delivery tag into a lock token with .NET's GUID byte order and send it back
 * as a UUID; accept the token in either byte order.
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
