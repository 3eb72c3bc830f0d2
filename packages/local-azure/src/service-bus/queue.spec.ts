import { afterEach, describe, expect, it, vi } from 'vitest';
import { Queue } from './queue.js';

afterEach(() => vi.useRealTimers());

describe('Queue (peek-lock semantics)', () => {
  it('delivers in order, counts deliveries, and completes', () => {
    const queue = new Queue('q', 3, 1000);
    queue.enqueue({ body: 'a' });
    queue.enqueue({ body: 'b' });
    const first = queue.take('active')!;
    expect(first.amqp.body).toBe('a');
    expect(first.deliveryCount).toBe(1);
    const lock = queue.lock(first, 'active');
    expect(queue.complete(lock.token)).toBe(true);
    expect(queue.complete(lock.token)).toBe(false);
    expect(queue.stats()).toEqual({
      active: 1,
      scheduled: 0,
      locked: 0,
      deadLettered: 0,
      completed: 1,
    });
  });

  it('returns an abandoned message first and dead-letters it after maxDeliveryCount', () => {
    const queue = new Queue('q', 2, 1000);
    queue.enqueue({ body: 'poison' });
    queue.enqueue({ body: 'next' });
    for (let i = 0; i < 2; i++) {
      const message = queue.take('active')!;
      expect(message.amqp.body).toBe('poison');
      queue.abandon(queue.lock(message, 'active').token);
    }
    expect(queue.deadLetters[0]?.deadLetter?.reason).toBe('MaxDeliveryCountExceeded');
    expect(queue.take('active')?.amqp.body).toBe('next');
  });

  it('releases a message whose lock expires, and a renewed lock does not expire', () => {
    vi.useFakeTimers();
    const queue = new Queue('q', 5, 1000);
    queue.enqueue({ body: 'x' });
    queue.enqueue({ body: 'y' });
    const x = queue.lock(queue.take('active')!, 'active');
    const y = queue.lock(queue.take('active')!, 'active');
    vi.advanceTimersByTime(600);
    queue.renew(y.token);
    vi.advanceTimersByTime(600);
    expect(queue.hasLock(x.token)).toBe(false);
    expect(queue.hasLock(y.token)).toBe(true);
    expect(queue.take('active')?.deliveryCount).toBe(2);
    queue.close();
  });

  it('dead-letters with a reason on request', () => {
    const queue = new Queue('q', 5, 1000);
    queue.enqueue({ body: 'bad' });
    queue.deadLetter(
      queue.lock(queue.take('active')!, 'active').token,
      'MalformedMessage',
      'schemaVersion',
    );
    expect(queue.stats()).toMatchObject({ active: 0, locked: 0, deadLettered: 1 });
    expect(queue.deadLetters[0]?.deadLetter).toEqual({
      reason: 'MalformedMessage',
      description: 'schemaVersion',
    });
    queue.close();
  });
});
