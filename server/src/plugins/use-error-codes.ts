import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ERROR_CODES, RealtimeError, type ErrorCode } from '@realtime/core';
import type { Logger } from '../logger.js';

const isCatalogued = (code: unknown): code is ErrorCode => typeof code === 'string' && code in ERROR_CODES;

/**
 * Gives every error that leaves the server a code from our catalog. GraphQL's own parse and
 * validation errors, and Yoga's request errors (malformed body, wrong method), become BAD_USER_INPUT
 * (with `graphqlCode` keeping Yoga's finer code); depth-limit rejections become QUERY_TOO_DEEP.
 */
export function classify(error: GraphQLError, graphqlCode?: string): GraphQLError {
  const extensions = { ...(graphqlCode ? { code: graphqlCode } : {}), ...error.extensions };
  if (isCatalogued(extensions.code)) return error;
  let code: ErrorCode = 'BAD_USER_INPUT';
  if (/depth/i.test(error.message) && /limit|exceed/i.test(error.message)) code = 'QUERY_TOO_DEEP';
  if (/cost/i.test(error.message) && /limit|exceed/i.test(error.message)) code = 'QUERY_TOO_COSTLY';
  const status = (extensions.http as { status?: number } | undefined)?.status;
  if (status === 413) code = 'PAYLOAD_TOO_LARGE';
  if (status !== undefined && status >= 500) code = 'INTERNAL_SERVER_ERROR';
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: {
      ...extensions,
      code,
      ...(typeof extensions.code === 'string' ? { graphqlCode: extensions.code } : {}),
    },
  });
}

/** The same result with every error classified; results without errors are returned as they are. */
export function classifyResult<T extends ExecutionResult>(result: T): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((e) => classify(e)) };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** HTTP: every result Yoga sends (including request errors and SSE items). WebSocket uses classifyResult in onNext. */
export const useErrorCodes = (): Plugin => ({
  onResultProcess({ result, setResult }) {
    if (isAsyncIterable(result)) return;
    if (Array.isArray(result)) {
      setResult(result.map((r: ExecutionResult) => classifyResult(r)));
      return;
    }
    setResult(classifyResult(result as ExecutionResult));
  },
  onValidate() {
    return ({ result, setResult }) => {
      if (result.length > 0) {
        setResult(result.map((e) => classify(e instanceof GraphQLError ? e : new GraphQLError(e.message), 'GRAPHQL_VALIDATION_FAILED')));
      }
    };
  },
  onParse() {
    return ({ result, replaceParseResult }) => {
      if (result instanceof GraphQLError) replaceParseResult(classify(result, 'GRAPHQL_PARSE_FAILED'));
    };
  },
});

/** Connection-level failures of PostgreSQL or Redis: the client should retry, nothing is wrong with its request. */
function isBackendUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001'].includes(code)) return true;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Connection terminated|connection timeout|Stream isn't writeable/i.test(error.message)
  );
}

/**
 * Error masking for every transport: expected errors (GraphQLError, RealtimeError) pass as they are;
 * backing-service outages become SERVICE_UNAVAILABLE; anything else is logged and sent only as
 * INTERNAL_SERVER_ERROR with a generic message.
 */
export function maskError(error: unknown, message: string, logger: Logger): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof GraphQLError) return original;
  if (error instanceof GraphQLError && !error.originalError) return error;
  if (isBackendUnavailable(original)) {
    logger.warn('backing service unavailable', { error: String(original) });
    return new RealtimeError('SERVICE_UNAVAILABLE', 'PostgreSQL or Redis did not answer; retry shortly');
  }
  logger.error('unexpected error', { error: original instanceof Error ? original.stack : String(original) });
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } } });
}
