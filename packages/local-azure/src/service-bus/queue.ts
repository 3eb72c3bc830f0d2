import { randomBytes } from 'node:crypto';

/** What the emulator keeps of a message: the AMQP sections it was sent with, plus broker state. */
export interface StoredMessage {
  sequenceNumber: number;
  enqueuedAt: Date;
  /** The AMQP message as the sender sent it (rhea's decoded form), without broker annotations. */
  amqp: Record<string, unknown>;
  deliveryCount: number;
  deadLetter?: { reason: string; description: string };
}

export interface Lock {
  token: string;
  message: StoredMessage;
  lockedUntil: Date;
  timer: NodeJS.Timeout;
  subQueue: 'active' | 'deadLetter';
}

export interface QueueStats {
  active: number;
  scheduled: number;
  locked: number;
  deadLettered: number;
  completed: number;
}

/**
 * One Service Bus queue (and its dead-letter sub-queue) in memory, with peek-lock semantics:
 * a delivered message is locked for lockDuration; complete removes it; abandon or lock expiry
 * returns it, and after maxDeliveryCount deliveries it moves to the dead-letter queue.
 */
export class Queue {
  private readonly active: StoredMessage[] = [];
  readonly deadLetters: StoredMessage[] = [];
  private readonly locks = new Map<string, Lock>();
  private nextSequence = 1;
  private completed = 0;
  private readonly listeners = new Set<() => void>();
  /** Scheduled messages, by sequence number, waiting for their enqueue time. */
  private readonly scheduled = new Map<number, { message: StoredMessage; timer: NodeJS.Timeout }>();

  constructor(
    readonly name: string,
    readonly maxDeliveryCount: number,
    readonly lockDurationMs: number,
  ) {}

  /** Called whenever a message becomes available, so links with credit can be served. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  enqueue(amqp: Record<string, unknown>): StoredMessage {
    const message: StoredMessage = {
      sequenceNumber: this.nextSequence++,
      enqueuedAt: new Date(),
      amqp,
      deliveryCount: 0,
    };
    this.active.push(message);
    this.notify();
    return message;
  }

  /**
   * Holds a message until `at`, then enqueues it; its sequence number is given now (as Service
   * Bus does) so that it can be cancelled by it.
   */
  schedule(amqp: Record<string, unknown>, at: Date): StoredMessage {
    const message: StoredMessage = {
      sequenceNumber: this.nextSequence++,
      enqueuedAt: at,
      amqp,
      deliveryCount: 0,
    };
    const timer = setTimeout(
      () => {
        this.scheduled.delete(message.sequenceNumber);
        message.enqueuedAt = new Date();
        this.active.push(message);
        this.active.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
        this.notify();
      },
      Math.max(0, at.getTime() - Date.now()),
    );
    timer.unref();
    this.scheduled.set(message.sequenceNumber, { message, timer });
    return message;
  }

  /** Cancels a scheduled message; false when there is none with that number (any more). */
  cancelScheduled(sequenceNumber: number): boolean {
    const entry = this.scheduled.get(sequenceNumber);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.scheduled.delete(sequenceNumber);
    return true;
  }

  /** Takes the next message from the queue or a sub-queue (the transfer dead-letter queue is always empty here). */
  take(subQueue: 'active' | 'deadLetter' | 'transferDeadLetter'): StoredMessage | undefined {
    if (subQueue === 'transferDeadLetter') return undefined;
    const message = (subQueue === 'active' ? this.active : this.deadLetters).shift();
    if (message) message.deliveryCount += 1;
    return message;
  }

  /**
   * A lock belongs to the message, not to the link that delivered it: a message stays locked when
   * its link closes, until it is settled (on any link, or over $management) or the lock expires.
   */
  lock(message: StoredMessage, subQueue: 'active' | 'deadLetter'): Lock {
    const token = randomBytes(16).toString('hex');
    const lock: Lock = {
      token,
      message,
      subQueue,
      lockedUntil: new Date(Date.now() + this.lockDurationMs),
      timer: this.expiryTimer(token),
    };
    this.locks.set(token, lock);
    return lock;
  }

  renew(token: string): Date | undefined {
    const lock = this.locks.get(token);
    if (!lock) return undefined;
    clearTimeout(lock.timer);
    lock.lockedUntil = new Date(Date.now() + this.lockDurationMs);
    lock.timer = this.expiryTimer(token);
    return lock.lockedUntil;
  }

  complete(token: string): boolean {
    const lock = this.unlock(token);
    if (lock) this.completed += 1;
    return lock !== undefined;
  }

  /** Abandon: back to the queue, or to the dead-letter queue after the last allowed delivery. */
  abandon(token: string): boolean {
    const lock = this.unlock(token);
    if (!lock) return false;
    this.release(lock.message, lock.subQueue);
    return true;
  }

  deadLetter(token: string, reason: string, description: string): boolean {
    const lock = this.unlock(token);
    if (!lock) return false;
    lock.message.deadLetter = { reason, description };
    this.deadLetters.push(lock.message);
    this.notify();
    return true;
  }

  hasLock(token: string): boolean {
    return this.locks.has(token);
  }

  /** Peek sees active, locked and scheduled messages, in sequence order, as in Service Bus. */
  peek(fromSequence: number, count: number): StoredMessage[] {
    const all = [
      ...this.active,
      ...[...this.locks.values()].filter((l) => l.subQueue === 'active').map((l) => l.message),
      ...[...this.scheduled.values()].map((s) => s.message),
    ].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    return all.filter((m) => m.sequenceNumber >= fromSequence).slice(0, count);
  }

  stats(): QueueStats {
    return {
      active: this.active.length,
      scheduled: this.scheduled.size,
      locked: this.locks.size,
      deadLettered: this.deadLetters.length,
      completed: this.completed,
    };
  }

  close(): void {
    for (const lock of this.locks.values()) clearTimeout(lock.timer);
    for (const entry of this.scheduled.values()) clearTimeout(entry.timer);
    this.scheduled.clear();
    this.locks.clear();
    this.listeners.clear();
  }

  private unlock(token: string): Lock | undefined {
    const lock = this.locks.get(token);
    if (!lock) return undefined;
    clearTimeout(lock.timer);
    this.locks.delete(token);
    return lock;
  }

  private release(message: StoredMessage, subQueue: 'active' | 'deadLetter'): void {
    if (subQueue === 'deadLetter') {
      this.deadLetters.unshift(message);
    } else if (message.deliveryCount >= this.maxDeliveryCount) {
      message.deadLetter = {
        reason: 'MaxDeliveryCountExceeded',
        description: `Message could not be consumed after ${this.maxDeliveryCount} delivery attempts.`,
      };
      this.deadLetters.push(message);
    } else {
      this.active.unshift(message);
      this.active.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    }
    this.notify();
  }

  private expiryTimer(token: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.abandon(token), this.lockDurationMs);
    timer.unref();
    return timer;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
