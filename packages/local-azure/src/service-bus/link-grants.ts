import type { Connection } from 'rhea';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import type { ServiceBusEntityRef } from './entities.js';

export type ServiceBusAction = 'send' | 'listen';

/** A CBS token put on a connection, for one resource URI (an entity, or the namespace). */
export interface PutToken {
  audience: string;
  claims: AccessTokenClaims;
  expiresAt: number;
  /** Set by a timer when expiresAt passes. */
  expired?: boolean;
}

/**
 * The tokens put on each connection. Links are authorized against these on every use.
 *
 * A token's expiry is a timer set when it is put, not a comparison with the clock at each use:
 * clients schedule the renewal of their CBS tokens with timers too, so expiry and renewal stay
 * in the order they have on any clock (a test that runs Date faster than timers included).
 */
export class ConnectionTokens {
  private readonly byConnection = new WeakMap<Connection, Map<string, PutToken>>();

  constructor(private readonly onExpired: (connection: Connection) => void) {}

  put(connection: Connection, token: PutToken): void {
    let tokens = this.byConnection.get(connection);
    if (!tokens) this.byConnection.set(connection, (tokens = new Map()));
    tokens.set(token.audience, token);
    const timer = setTimeout(
      () => {
        token.expired = true;
        this.onExpired(connection);
      },
      Math.max(0, Math.min(token.expiresAt - Date.now(), 2 ** 31 - 1)),
    );
    timer.unref();
  }

  /** The unexpired token whose resource URI covers the entity, if any. */
  find(connection: Connection, entity: ServiceBusEntityRef): PutToken | undefined {
    const tokens = this.byConnection.get(connection);
    if (!tokens) return undefined;
    return [...tokens.values()].find((t) => !t.expired && coversEntity(t.audience, entity));
  }
}

/**
 * A CBS resource URI covers an entity when it names the entity (or the topic of a subscription,
 * or a path under it), or names the whole namespace.
 */
export function coversEntity(audience: string, entity: ServiceBusEntityRef): boolean {
  const path = audience
    .replace(/^(sb|amqps?|https?):\/\/[^/]+/i, '')
    .replace(/^\/+|\/+$/g, '')
    .toLowerCase();
  const first = path.split('/')[0] ?? '';
  return first === '' || first === entity.name.toLowerCase();
}

/** The claim Service Bus names in its denials, for an action. */
export function claimName(action: ServiceBusAction): 'Send' | 'Listen' {
  return action === 'send' ? 'Send' : 'Listen';
}
