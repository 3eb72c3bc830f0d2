import type { Container } from 'rhea';

/**
 * SASL mechanisms of a Service Bus namespace. MSSBCBS says "the client will authorize with CBS
 * put-token after the connection opens"; it succeeds at SASL, as ANONYMOUS does, and every link
 * is then checked against the tokens put on $cbs. Microsoft.Azure.Amqp (.NET) offers MSSBCBS
 * only; rhea-based clients (JS) offer ANONYMOUS.
 */
export function enableServiceBusSasl(container: Container): void {
  const mechanisms = container.sasl_server_mechanisms as unknown as Record<
    string,
    () => unknown
  > & {
    enable_anonymous(): void;
  };
  mechanisms.enable_anonymous();
  mechanisms.MSSBCBS = () => ({
    outcome: undefined as boolean | undefined,
    username: undefined as string | undefined,
    start(this: { outcome?: boolean; username?: string }) {
      this.outcome = true;
      this.username = 'cbs';
    },
  });
}
