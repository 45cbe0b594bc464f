import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { ERROR_CODES, RealtimeError, badInput, requireSecretKey, type ErrorCode, type EventEnvelope, type Platform, type PublishInput } from '@realtime/core';
import type { Logger } from '../logger.js';
import { maskError } from '../plugins/use-error-codes.js';
import { bearerToken, resolvePrincipal } from '../principal.js';
import { BodyTooLargeError, readBody } from './body.js';

/** The path of the HTTP publish endpoint. */
export const PUBLISH_PATH = '/v1/publish';

/** The fields of a publish body: the `publish` mutation's input, field for field. */
const FIELDS = ['topic', 'data', 'subject', 'traceparent', 'schemaVersion', 'idempotencyKey'] as const;

/** Reads a field that must be a string or absent (null counts as absent, as in GraphQL). */
function optionalString(body: Record<string, unknown>, field: (typeof FIELDS)[number]): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badInput(`${field} must be a string`, { field });
  return value;
}

/**
 * The body as a publish input, or BAD_USER_INPUT naming the field. The same checks as the GraphQL input type
 * (required fields, types, no unknown fields); everything else (topic name, schema, sizes) is the publisher's.
 */
export function parsePublishBody(raw: Buffer): PublishInput {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badInput(`the request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badInput(`the request body must be a JSON object with ${FIELDS.join(', ')}`);
  }
  const record = body as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(field)) throw badInput(`unknown field "${field}"; a publish has ${FIELDS.join(', ')}`, { field });
  }
  const topic = record.topic;
  if (typeof topic !== 'string') throw badInput('topic is required and must be a string', { field: 'topic' });
  if (record.data === undefined || record.data === null) throw badInput('data is required (any JSON value but null)', { field: 'data' });
  const schemaVersion = record.schemaVersion;
  if (schemaVersion !== undefined && schemaVersion !== null && !(Number.isInteger(schemaVersion) && (schemaVersion as number) > 0)) {
    throw badInput('schemaVersion must be a positive integer', { field: 'schemaVersion' });
  }
  return {
    topic,
    data: record.data,
    subject: optionalString(record, 'subject'),
    traceparent: optionalString(record, 'traceparent'),
    schemaVersion: (schemaVersion as number | null | undefined) ?? undefined,
    idempotencyKey: optionalString(record, 'idempotencyKey'),
  };
}

/** An error answer: the catalog's HTTP status and the same `{ errors: [...] }` shape as GraphQL over HTTP. */
function sendError(res: ServerResponse, error: GraphQLError, status?: number, headers: Record<string, string> = {}): void {
  const code = error.extensions.code as ErrorCode;
  const extensions = { ...error.extensions };
  delete extensions.http;
  const retryAfterMs = extensions.retryAfterMs;
  if (typeof retryAfterMs === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  res.writeHead(status ?? ERROR_CODES[code]?.status ?? 500, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify({ errors: [{ message: error.message, extensions }] }));
}

/**
 * `POST /v1/publish`: the `publish` mutation without GraphQL, for producers that are servers (curl, a job, a
 * language without a GraphQL client). Same key (`Authorization: Bearer sk_…`), limits, validation, history and
 * fan-out, since both call the one publisher; the answer is `{ "event": <envelope> }`, sent only after the event
 * is stored and published. Errors carry the catalog's codes and HTTP statuses; on error nothing was published.
 */
export function createPublishHandler(options: { platform: Platform; maxRequestBytes: number; logger: Logger }) {
  const { platform, maxRequestBytes, logger } = options;
  return async function handlePublish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      req.resume();
      sendError(res, new RealtimeError('BAD_USER_INPUT', `${req.method ?? 'this method'} is not allowed here; POST a JSON body to ${PUBLISH_PATH}`), 405, { allow: 'POST' });
      return;
    }
    let event: EventEnvelope;
    try {
      // The key first: a caller without one learns that before anything about its body.
      const key = requireSecretKey(await resolvePrincipal(platform, { apiKey: bearerToken(req.headers.authorization) }));
      let raw: Buffer;
      try {
        raw = await readBody(req, maxRequestBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        throw new RealtimeError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxRequestBytes} bytes (REALTIME_MAX_REQUEST_BYTES)`);
      }
      event = await platform.publisher.publish(key, parsePublishBody(raw));
    } catch (error) {
      // A body left unread is drained, so the connection can carry the next request.
      if (!req.readableEnded) req.resume();
      const masked = maskError(error, 'Unexpected error.', logger);
      sendError(res, masked instanceof GraphQLError ? masked : new RealtimeError('INTERNAL_SERVER_ERROR', 'Unexpected error.'));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(`{"event":${JSON.stringify(event)}}`);
  };
}
