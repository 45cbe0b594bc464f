import { findApplication, notFound, registerTopic, requireAdminOf, type Topic } from '@realtime/core';
import { builder } from '../builder.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

export const TopicRef = builder.objectRef<Topic>('Topic').implement({
  description: 'A domain topic: a name, a JSON Schema for its data, and a typed Subscription field.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    fieldName: t.exposeString('fieldName', { description: 'The typed Subscription field: `order.updated` → `orderUpdated`.' }),
    description: t.exposeString('description', { nullable: true }),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (topic) => topic.environment }),
    schemaVersion: t.exposeInt('schemaVersion'),
    schema: t.field({ type: 'JSON', resolve: (topic) => topic.schema }),
    createdAt: t.field({ type: 'DateTime', resolve: (topic) => topic.createdAt }),
  }),
});

const RegisterTopicInput = builder.inputType('RegisterTopicInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    name: t.string({ required: true, description: 'Dotted lower-case words, e.g. `order.updated`.' }),
    schema: t.field({ type: 'JSON', required: true, description: 'A JSON Schema (draft 2020-12) whose root is an object.' }),
    description: t.string(),
  }),
});

builder.mutationField('registerTopic', (t) =>
  t.field({
    type: TopicRef,
    description:
      'Registers a topic and its schema (version 1). Idempotent for an identical schema; another schema for an existing name is a CONFLICT.',
    args: { input: t.arg({ type: RegisterTopicInput, required: true }) },
    resolve: async (_root, { input }, { platform, principal }) => {
      const applicationId = String(input.applicationId);
      requireAdminOf(principal, applicationId, input.environment);
      if (!(await findApplication(platform.pool, applicationId))) {
        throw notFound(`application ${applicationId} does not exist`);
      }
      const scope = { applicationId, environment: input.environment };
      const { topic, created } = await registerTopic(platform.pool, {
        ...scope,
        name: input.name,
        schema: input.schema,
        description: input.description,
      });
      if (created) await platform.announce({ type: 'registry-changed', scope });
      return topic;
    },
  }),
);
