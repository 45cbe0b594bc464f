import type { GraphQLFormattedError } from 'graphql';

/**
 * Every error the client reports. `code` is the platform's `extensions.code` (docs/errors.md) when the server
 * sent one; the client's own are `BAD_USER_INPUT` (a document it cannot resume), `CONNECTION_CLOSED` (a close
 * that trying again cannot fix: see `closeCode`) and `CONNECTION_LOST` (retries exhausted).
 */
export class RealtimeClientError extends Error {
  override readonly name = 'RealtimeClientError';
  readonly code: string;
  /** The WebSocket close code, when a close ended the subscription. */
  readonly closeCode?: number;
  /** The HTTP status, for publish. */
  readonly status?: number;
  /** The GraphQL errors as the server sent them. */
  readonly errors?: readonly GraphQLFormattedError[];
  /** From a 429's Retry-After, for publish. */
  readonly retryAfterMs?: number;

  constructor(
    code: string,
    message: string,
    details: { closeCode?: number; status?: number; errors?: readonly GraphQLFormattedError[]; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.code = code;
    if (details.closeCode !== undefined) this.closeCode = details.closeCode;
    if (details.status !== undefined) this.status = details.status;
    if (details.errors !== undefined) this.errors = details.errors;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** The error for a list of GraphQL errors: the first one's code and message (with the HTTP status and Retry-After of publish). */
export function fromGraphQLErrors(errors: readonly GraphQLFormattedError[], http: { status?: number; retryAfterMs?: number } = {}): RealtimeClientError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  return new RealtimeClientError(code, first?.message ?? 'the server answered with an error', { errors, ...http });
}
