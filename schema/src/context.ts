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
}
