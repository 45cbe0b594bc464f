import type { Platform, Principal } from '@realtime/core';

/** What every resolver receives. Built by the server for HTTP and WebSocket alike. */
export interface GraphQLContext {
  platform: Platform;
  principal: Principal;
  /**
   * Sets or clears the session cookie of the HTTP response. Absent on WebSocket, where
   * `signIn` answers FORBIDDEN (sessions begin over HTTP).
   */
  sessionCookie?: {
    set(sessionId: string, maxAgeSeconds: number): void;
    clear(): void;
  };
  /**
   * Called when one of this connection's subscriptions falls a whole buffer behind. On WebSocket it closes
   * the connection with 4008; elsewhere the subscription just ends with SLOW_CONSUMER.
   */
  onSlowConsumer?: () => void;
  /**
   * The WebSocket connection's broadcast allowance: true when one more client message may go out now.
   * Absent over HTTP, where `broadcast` is refused (client messages come from live connections).
   */
  takeBroadcastToken?: () => boolean;
}
