// The public surface of @realtime/schema.
import { lexicographicSortSchema, printSchema } from 'graphql';
import { baseSchema } from './base-schema.js';
import './scalars.js';
import './auth/user.js';
import './apps/enums.js';
import './apps/application.js';
import './topics/topic.js';
import './events/event.js';
import './events/filters.js';
import './events/publish.js';
import './events/events-field.js';
import './presence/presence.js';
import './cdc/cdc-source.js';
import './webhooks/webhook.js';
import './documents/collection.js';
import './documents/document.js';

import { buildApplicationSchema } from './typed/application-schema.js';
import type { Topic } from '@realtime/core';

export type { GraphQLContext } from './context.js';
export { buildApplicationSchema, createSchemaCache, topicTypeClash } from './typed/application-schema.js';

export { baseSchema };

/** The base schema as SDL, sorted so the committed `schema.graphql` diffs cleanly. */
export function printBaseSchema(): string {
  return printSchema(lexicographicSortSchema(baseSchema()));
}

/**
 * The SDL of one application environment (base schema plus its typed topic fields), sorted: what
 * `realtime schema export` and `GET /schema.graphql` return, and what client codegen consumes.
 */
export function printApplicationSchema(topics: readonly Topic[]): string {
  return `${printSchema(lexicographicSortSchema(buildApplicationSchema(baseSchema(), topics)))}\n`;
}
