import {
  COMPATIBILITY_MODES,
  checkTopicCompatibility,
  diffSchemas,
  findApplication,
  findIncompatibilities,
  findTopic,
  forbidden,
  listSchemaVersions,
  listTopics,
  notFound,
  registerSchemaVersion,
  registerTopic,
  requireAdminOf,
  setTopicCompatibility,
  setTopicRetention,
  setTopicAccess,
  rotateJwtSecret,
  setJwksUrl,
  unauthenticated,
  type BreakingChange,
  type EnvironmentName,
  type Principal,
  type SchemaDiffEntry,
  type SchemaVersion,
  type Topic,
  RealtimeError,
} from '@realtime/core';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { baseSchema } from '../base-schema.js';
import { createSchemaCache, topicTypeClash } from '../typed/application-schema.js';

/** Environments' schemas as the registry sees them, for name-clash checks at registration (built lazily: the
 * base schema is complete only once every domain module has loaded). */
let schemaCache: ReturnType<typeof createSchemaCache> | undefined;
const schemaForTopics: ReturnType<typeof createSchemaCache> = (topics) => (schemaCache ??= createSchemaCache(baseSchema()))(topics);
import { EnvironmentNameEnum } from '../apps/enums.js';

export const CompatibilityModeEnum = builder.enumType('CompatibilityMode', {
  description:
    'How a new schema version must relate to earlier ones (Confluent Schema Registry’s modes). BACKWARD: consumers on the new schema read data written with the latest version; FORWARD: consumers on the latest version read data written with the new one; FULL: both. *_TRANSITIVE: against every earlier version. NONE: no check.',
  values: COMPATIBILITY_MODES,
});

const RetentionRef = builder
  .objectRef<{ maxEvents: number; maxAgeSeconds: number }>('Retention')
  .implement({
    description: 'How much of a topic’s history is kept for resume and replay.',
    fields: (t) => ({ maxEvents: t.exposeInt('maxEvents'), maxAgeSeconds: t.exposeInt('maxAgeSeconds') }),
  });

const RetentionInput = builder.inputType('RetentionInput', {
  fields: (t) => ({
    maxEvents: t.int({ description: 'Events kept (1–1,000,000). Default 10,000.' }),
    maxAgeSeconds: t.int({ description: 'Seconds kept (1–2,592,000). Default 86,400 (24 h).' }),
  }),
});

export const TopicAccessEnum = builder.enumType('TopicAccess', {
  values: {
    PUBLIC: { description: 'Any key of the environment subscribes.' },
    PROTECTED: { description: 'Publishable keys also need an end-user token (connectionParams.token) whose `topics` claim grants the topic.' },
  },
});

const ClaimFilterRef = builder.objectRef<{ path: string; claim: string }>('ClaimFilter').implement({
  description: 'Deliver an event to an end user only where `data.<path>` equals the value of the token claim `<claim>`.',
  fields: (t) => ({ path: t.exposeString('path'), claim: t.exposeString('claim') }),
});

const ClaimFilterInput = builder.inputType('ClaimFilterInput', {
  fields: (t) => ({
    path: t.string({ required: true, description: 'Dotted path into the event data, e.g. `customerId`.' }),
    claim: t.string({ required: true, description: 'Token claim whose value it must equal, e.g. `sub`.' }),
  }),
});

export const SchemaVersionRef = builder.objectRef<SchemaVersion>('SchemaVersion').implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    schema: t.field({ type: 'JSON', resolve: (v) => v.schema }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => v.createdAt }),
  }),
});

export const TopicRef = builder.objectRef<Topic>('Topic').implement({
  description: 'A domain topic: a name, a JSON Schema for its data, and a typed Subscription field.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    fieldName: t.exposeString('fieldName', { description: 'The typed Subscription field: `order.updated` → `orderUpdated`.' }),
    description: t.exposeString('description', { nullable: true }),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (topic) => topic.environment }),
    schemaVersion: t.exposeInt('schemaVersion', { description: 'The latest version.' }),
    schema: t.field({ type: 'JSON', description: 'The latest version’s JSON Schema.', resolve: (topic) => topic.schema }),
    compatibility: t.field({ type: CompatibilityModeEnum, resolve: (topic) => topic.compatibility }),
    retention: t.field({
      type: RetentionRef,
      resolve: (topic) => ({ maxEvents: topic.retentionMaxEvents, maxAgeSeconds: topic.retentionMaxAgeSeconds }),
    }),
    access: t.field({ type: TopicAccessEnum, resolve: (topic) => topic.access }),
    clientMessages: t.exposeBoolean('clientMessages', { description: 'Whether clients may `broadcast` on it.' }),
    claimFilters: t.field({ type: [ClaimFilterRef], resolve: (topic) => topic.claimFilters }),
    versions: t.field({
      type: [SchemaVersionRef],
      description: 'Every schema version, oldest first.',
      resolve: (topic, _args, { platform }) => listSchemaVersions(platform.pool, topic.id),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (topic) => topic.createdAt }),
  }),
});

const BreakingChangeRef = builder.objectRef<BreakingChange>('BreakingChange').implement({
  description: 'A reason data of one version may be rejected by consumers of another.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'JSON Pointer into the data (`/lines/*/qty`).' }),
    rule: t.exposeString('rule', { description: 'Stable rule id, e.g. REQUIRED_ADDED, ENUM_NARROWED.' }),
    message: t.exposeString('message'),
    version: t.exposeInt('version', { description: 'The earlier version this was checked against.' }),
    direction: t.exposeString('direction', { description: 'BACKWARD or FORWARD.' }),
  }),
});

const CompatibilityResultRef = builder
  .objectRef<{ compatible: boolean; breakingChanges: BreakingChange[] }>('CompatibilityResult')
  .implement({
    fields: (t) => ({
      compatible: t.exposeBoolean('compatible'),
      breakingChanges: t.field({ type: [BreakingChangeRef], resolve: (r) => r.breakingChanges }),
    }),
  });

const SchemaDiffEntryRef = builder.objectRef<SchemaDiffEntry>('SchemaDiffEntry').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'JSON Pointer into the schema document.' }),
    kind: t.exposeString('kind', { description: 'ADDED, REMOVED or CHANGED.' }),
    before: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.before }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.after }),
  }),
});

interface SchemaDiffShape {
  from: number;
  to: number;
  changes: SchemaDiffEntry[];
  backwardChanges: { path: string; rule: string; message: string }[];
  forwardChanges: { path: string; rule: string; message: string }[];
}

const SchemaChangeRef = builder.objectRef<{ path: string; rule: string; message: string }>('SchemaChange').implement({
  fields: (t) => ({ path: t.exposeString('path'), rule: t.exposeString('rule'), message: t.exposeString('message') }),
});

const SchemaDiffRef = builder.objectRef<SchemaDiffShape>('SchemaDiff').implement({
  description: 'What changed between two versions, and whether data flows between them in each direction.',
  fields: (t) => ({
    from: t.exposeInt('from'),
    to: t.exposeInt('to'),
    changes: t.field({ type: [SchemaDiffEntryRef], resolve: (d) => d.changes }),
    backwardCompatible: t.boolean({
      description: 'Consumers on `to` can read data written with `from`.',
      resolve: (d) => d.backwardChanges.length === 0,
    }),
    forwardCompatible: t.boolean({
      description: 'Consumers on `from` can read data written with `to`.',
      resolve: (d) => d.forwardChanges.length === 0,
    }),
    backwardChanges: t.field({ type: [SchemaChangeRef], resolve: (d) => d.backwardChanges }),
    forwardChanges: t.field({ type: [SchemaChangeRef], resolve: (d) => d.forwardChanges }),
  }),
});

/** Reading the registry: any signed-in user, or any key (publishable too) of that very environment. */
function requireReaderOf(principal: Principal, applicationId: string, environment: EnvironmentName): void {
  if (principal.kind === 'user') return;
  if (principal.kind === 'anonymous') throw unauthenticated('sign in or send an API key of this application');
  if (principal.applicationId !== applicationId || principal.environment !== environment) {
    throw forbidden('this key belongs to another application or environment');
  }
}

async function topicOrThrow(context: GraphQLContext, scope: { applicationId: string; environment: EnvironmentName; name: string }): Promise<Topic> {
  const topic = await findTopic(context.platform.pool, scope);
  if (!topic) throw notFound(`topic "${scope.name}" is not registered in ${scope.environment}`);
  return topic;
}

builder.queryField('topics', (t) =>
  t.field({
    type: [TopicRef],
    description: 'The topics of one application environment, by name.',
    args: { applicationId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentNameEnum, required: true }) },
    resolve: (_root, args, { platform, principal }) => {
      requireReaderOf(principal, String(args.applicationId), args.environment);
      return listTopics(platform.pool, String(args.applicationId), args.environment);
    },
  }),
);

builder.queryField('topic', (t) =>
  t.field({
    type: TopicRef,
    nullable: true,
    args: {
      applicationId: t.arg.id({ required: true }),
      environment: t.arg({ type: EnvironmentNameEnum, required: true }),
      name: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, { platform, principal }) => {
      requireReaderOf(principal, String(args.applicationId), args.environment);
      return (await findTopic(platform.pool, { ...args, applicationId: String(args.applicationId) })) ?? null;
    },
  }),
);

builder.queryField('schemaVersions', (t) =>
  t.field({
    type: [SchemaVersionRef],
    args: {
      applicationId: t.arg.id({ required: true }),
      environment: t.arg({ type: EnvironmentNameEnum, required: true }),
      topic: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment, name: args.topic };
      requireReaderOf(context.principal, scope.applicationId, scope.environment);
      return listSchemaVersions(context.platform.pool, (await topicOrThrow(context, scope)).id);
    },
  }),
);

builder.queryField('schemaDiff', (t) =>
  t.field({
    type: SchemaDiffRef,
    description: 'The differences between two schema versions of a topic.',
    args: {
      applicationId: t.arg.id({ required: true }),
      environment: t.arg({ type: EnvironmentNameEnum, required: true }),
      topic: t.arg.string({ required: true }),
      from: t.arg.int({ required: true }),
      to: t.arg.int({ required: true }),
    },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment, name: args.topic };
      requireReaderOf(context.principal, scope.applicationId, scope.environment);
      const versions = await listSchemaVersions(context.platform.pool, (await topicOrThrow(context, scope)).id);
      const pick = (n: number): SchemaVersion => {
        const found = versions.find((v) => v.version === n);
        if (!found) throw notFound(`version ${n} of "${args.topic}" does not exist; versions are 1–${versions.length}`);
        return found;
      };
      const from = pick(args.from);
      const to = pick(args.to);
      return {
        from: from.version,
        to: to.version,
        changes: diffSchemas(from.schema, to.schema),
        backwardChanges: findIncompatibilities(from.schema, to.schema, { writer: `version ${from.version}`, reader: `version ${to.version}` }),
        forwardChanges: findIncompatibilities(to.schema, from.schema, { writer: `version ${to.version}`, reader: `version ${from.version}` }),
      };
    },
  }),
);

const RegisterTopicInput = builder.inputType('RegisterTopicInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    name: t.string({ required: true, description: 'Dotted lower-case words, e.g. `order.updated`.' }),
    schema: t.field({ type: 'JSON', required: true, description: 'A JSON Schema (draft 2020-12) whose root is an object.' }),
    description: t.string(),
    compatibility: t.field({ type: CompatibilityModeEnum, description: 'Default BACKWARD.' }),
    retention: t.field({ type: RetentionInput }),
    access: t.field({ type: TopicAccessEnum, description: 'Default PUBLIC.' }),
    claimFilters: t.field({ type: [ClaimFilterInput] }),
    clientMessages: t.boolean({ description: 'Allow clients to `broadcast` ephemeral messages. Default false.' }),
  }),
});

async function requireAdmin(context: GraphQLContext, applicationId: string, environment: EnvironmentName): Promise<void> {
  requireAdminOf(context.principal, applicationId, environment);
  if (!(await findApplication(context.platform.pool, applicationId))) throw notFound(`application ${applicationId} does not exist`);
}

builder.mutationField('registerTopic', (t) =>
  t.field({
    type: TopicRef,
    description:
      'Registers a topic and its schema (version 1). Idempotent for an identical schema; another schema for an existing name is a CONFLICT (add versions with registerSchemaVersion).',
    args: { input: t.arg({ type: RegisterTopicInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const current = await context.platform.registry.get(scope);
      if (!current.byName.has(input.name)) {
        const clash = topicTypeClash(baseSchema(), schemaForTopics(current), input.name);
        if (clash) {
          throw new RealtimeError(
            'CONFLICT',
            `topic "${input.name}" would generate the GraphQL type ${clash}, which another topic's types already use; choose another name`,
            { topic: input.name, field: 'name' },
          );
        }
      }
      const { topic, created } = await registerTopic(context.platform.pool, {
        ...scope,
        name: input.name,
        schema: input.schema,
        description: input.description,
        compatibility: input.compatibility,
        retention: input.retention,
        access: input.access,
        claimFilters: input.claimFilters,
        clientMessages: input.clientMessages,
      });
      if (created) await context.platform.announce({ type: 'registry-changed', scope });
      return topic;
    },
  }),
);

const TopicSchemaInput = builder.inputType('TopicSchemaInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    topic: t.string({ required: true }),
    schema: t.field({ type: 'JSON', required: true }),
  }),
});

const RegisterSchemaVersionPayload = builder
  .objectRef<{ topic: Topic; version: number; created: boolean }>('RegisterSchemaVersionPayload')
  .implement({
    fields: (t) => ({
      version: t.exposeInt('version'),
      created: t.exposeBoolean('created', { description: 'False when the schema equals the latest version (nothing registered).' }),
      topic: t.field({ type: TopicRef, resolve: (p) => p.topic }),
    }),
  });

builder.mutationField('registerSchemaVersion', (t) =>
  t.field({
    type: RegisterSchemaVersionPayload,
    description:
      'Adds the next schema version of a topic if it satisfies the topic’s compatibility mode; otherwise SCHEMA_INCOMPATIBLE with extensions.breakingChanges. Every server instance serves the new typed fields within a second.',
    args: { input: t.arg({ type: TopicSchemaInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const result = await registerSchemaVersion(context.platform.pool, { ...scope, name: input.topic, schema: input.schema });
      if (result.created) await context.platform.announce({ type: 'registry-changed', scope });
      return result;
    },
  }),
);

builder.queryField('checkCompatibility', (t) =>
  t.field({
    type: CompatibilityResultRef,
    description: 'Checks a candidate schema against a topic’s mode and versions without registering it (for CI pipelines).',
    args: { input: t.arg({ type: TopicSchemaInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment, name: input.topic };
      requireReaderOf(context.principal, scope.applicationId, scope.environment);
      return checkTopicCompatibility(context.platform.pool, scope, input.schema);
    },
  }),
);

builder.mutationField('setTopicCompatibility', (t) =>
  t.field({
    type: TopicRef,
    args: {
      input: t.arg({
        type: builder.inputType('SetTopicCompatibilityInput', {
          fields: (f) => ({
            applicationId: f.id({ required: true }),
            environment: f.field({ type: EnvironmentNameEnum, required: true }),
            topic: f.string({ required: true }),
            compatibility: f.field({ type: CompatibilityModeEnum, required: true }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const topic = await setTopicCompatibility(context.platform.pool, { ...scope, name: input.topic, compatibility: input.compatibility });
      await context.platform.announce({ type: 'registry-changed', scope });
      return topic;
    },
  }),
);

builder.mutationField('setTopicRetention', (t) =>
  t.field({
    type: TopicRef,
    args: {
      input: t.arg({
        type: builder.inputType('SetTopicRetentionInput', {
          fields: (f) => ({
            applicationId: f.id({ required: true }),
            environment: f.field({ type: EnvironmentNameEnum, required: true }),
            topic: f.string({ required: true }),
            retention: f.field({ type: RetentionInput, required: true }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const topic = await setTopicRetention(context.platform.pool, { ...scope, name: input.topic, retention: input.retention });
      await context.platform.announce({ type: 'registry-changed', scope });
      return topic;
    },
  }),
);

builder.mutationField('setTopicAccess', (t) =>
  t.field({
    type: TopicRef,
    description: 'Makes a topic PUBLIC or PROTECTED and sets the claim rules that bind end users’ deliveries (omitted: kept).',
    args: {
      input: t.arg({
        type: builder.inputType('SetTopicAccessInput', {
          fields: (f) => ({
            applicationId: f.id({ required: true }),
            environment: f.field({ type: EnvironmentNameEnum, required: true }),
            topic: f.string({ required: true }),
            access: f.field({ type: TopicAccessEnum, required: true }),
            claimFilters: f.field({ type: [ClaimFilterInput] }),
            clientMessages: f.boolean(),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const topic = await setTopicAccess(context.platform.pool, {
        ...scope,
        name: input.topic,
        access: input.access,
        claimFilters: input.claimFilters,
        clientMessages: input.clientMessages,
      });
      await context.platform.announce({ type: 'registry-changed', scope });
      return topic;
    },
  }),
);

builder.mutationField('rotateJwtSecret', (t) =>
  t.field({
    type: builder.objectRef<{ secret: string }>('JwtSecretPayload').implement({
      fields: (f) => ({ secret: f.exposeString('secret', { description: 'Sign end-user tokens (HS256) with it. Shown once; stored encrypted.' }) }),
    }),
    description: 'Creates or replaces the HS256 secret that verifies end-user tokens of one environment. Tokens signed with the old secret stop working.',
    args: { applicationId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentNameEnum, required: true }) },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      return { secret: await rotateJwtSecret(context.platform.pool, context.platform.secrets, scope) };
    },
  }),
);

builder.mutationField('setJwksUrl', (t) =>
  t.boolean({
    description: 'Sets (or clears with null) the JWKS URL whose keys verify RS256 and EdDSA end-user tokens of one environment.',
    args: {
      applicationId: t.arg.id({ required: true }),
      environment: t.arg({ type: EnvironmentNameEnum, required: true }),
      jwksUrl: t.arg.string(),
    },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      await setJwksUrl(context.platform.pool, scope, args.jwksUrl ?? null);
      return true;
    },
  }),
);
