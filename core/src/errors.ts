import { GraphQLError } from 'graphql';
import { ERROR_CODES, type ErrorCode } from './protocol.js';

/**
 * An expected, user-facing error. It reaches clients as a GraphQL error whose `extensions.code` is a
 * stable code from {@link ERROR_CODES}; anything that is not a RealtimeError (or GraphQLError) is masked.
 * Messages say what was wrong, where, and what to do next.
 */
export class RealtimeError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { ...details, code, http: { status: ERROR_CODES[code].status } } });
    this.name = 'RealtimeError';
    this.code = code;
  }
}

export const badInput = (message: string, details?: Record<string, unknown>): RealtimeError =>
  new RealtimeError('BAD_USER_INPUT', message, details);
export const unauthenticated = (message: string): RealtimeError => new RealtimeError('UNAUTHENTICATED', message);
export const forbidden = (message: string): RealtimeError => new RealtimeError('FORBIDDEN', message);
export const notFound = (message: string): RealtimeError => new RealtimeError('NOT_FOUND', message);
