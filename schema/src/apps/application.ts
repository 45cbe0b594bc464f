import {
  createApiKey,
  createApplication,
  findApiKey,
  findApplication,
  listApiKeys,
  listApplications,
  listTopics,
  notFound,
  requireAdminOf,
  requireUser,
  revokeApiKey,
  unauthenticated,
  type ApiKey,
  type Application,
  type EnvironmentName,
  type Principal,
} from '@realtime/core';
import { builder } from '../builder.js';
import { TopicRef } from '../topics/topic.js';
import { ApiKeyKindEnum, EnvironmentNameEnum } from './enums.js';

interface EnvironmentShape {
  applicationId: string;
  name: EnvironmentName;
}

export const EnvironmentRef = builder.objectRef<EnvironmentShape>('Environment').implement({
  fields: (t) => ({
    name: t.field({ type: EnvironmentNameEnum, resolve: (env) => env.name }),
    topics: t.field({
      type: [TopicRef],
      description: 'The topics registered in this environment.',
      resolve: (env, _args, { platform, principal }) => {
        requireAdminOf(principal, env.applicationId, env.name);
        return listTopics(platform.pool, env.applicationId, env.name);
      },
    }),
  }),
});

export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  description: 'An API key. Its secret is shown once, by createApiKey; only a hash is stored.',
  fields: (t) => ({
    id: t.exposeID('id'),
    applicationId: t.exposeID('applicationId'),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (key) => key.environment }),
    kind: t.field({ type: ApiKeyKindEnum, resolve: (key) => key.kind }),
    name: t.exposeString('name', { nullable: true }),
    hint: t.exposeString('hint', { description: 'Prefix and last four characters, to recognise the key.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => key.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.revokedAt }),
  }),
});

/** Users see every application; a key sees only its own environment of its own application. */
function canSee(principal: Principal, application: Application): boolean {
  if (principal.kind === 'user') return true;
  return principal.kind === 'key' && principal.applicationId === application.id;
}

export const ApplicationRef = builder.objectRef<Application>('Application').implement({
  description: 'A tenant: its environments, keys, topics and events are invisible to every other application.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.field({ type: 'DateTime', resolve: (app) => app.createdAt }),
    environments: t.field({
      type: [EnvironmentRef],
      resolve: (app, _args, { principal }) =>
        app.environments
          .filter((name) => principal.kind !== 'key' || principal.environment === name)
          .map((name) => ({ applicationId: app.id, name })),
    }),
    apiKeys: t.field({
      type: [ApiKeyRef],
      description: 'Keys of the application (console users only).',
      resolve: (app, _args, { platform, principal }) => {
        requireUser(principal);
        return listApiKeys(platform.pool, app.id);
      },
    }),
  }),
});

builder.queryField('applications', (t) =>
  t.field({
    type: [ApplicationRef],
    resolve: async (_root, _args, { platform, principal }) => {
      if (principal.kind === 'anonymous') throw unauthenticated('sign in or send an API key');
      if (principal.kind === 'key') {
        const own = await findApplication(platform.pool, principal.applicationId);
        return own ? [own] : [];
      }
      return listApplications(platform.pool);
    },
  }),
);

builder.queryField('application', (t) =>
  t.field({
    type: ApplicationRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { platform, principal }) => {
      if (principal.kind === 'anonymous') throw unauthenticated('sign in or send an API key');
      const application = await findApplication(platform.pool, String(id));
      return application && canSee(principal, application) ? application : null;
    },
  }),
);

const CreateApplicationInput = builder.inputType('CreateApplicationInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.mutationField('createApplication', (t) =>
  t.field({
    type: ApplicationRef,
    description: 'Creates an application with the environments DEV, STAGING and PROD. Console users only.',
    args: { input: t.arg({ type: CreateApplicationInput, required: true }) },
    resolve: (_root, { input }, { platform, principal }) => {
      requireUser(principal);
      return createApplication(platform.pool, { name: input.name });
    },
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    kind: t.field({ type: ApiKeyKindEnum, required: true }),
    name: t.string(),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ secret: string; key: ApiKey }>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      secret: t.exposeString('secret', { description: 'The key itself. Shown only here, once: store it now.' }),
      key: t.field({ type: ApiKeyRef, resolve: (payload) => payload.key }),
    }),
  });

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreateApiKeyPayload,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, { platform, principal }) => {
      const applicationId = String(input.applicationId);
      requireAdminOf(principal, applicationId, input.environment);
      if (!(await findApplication(platform.pool, applicationId))) {
        throw notFound(`application ${applicationId} does not exist`);
      }
      return createApiKey(platform.pool, {
        applicationId,
        environment: input.environment,
        kind: input.kind,
        name: input.name,
      });
    },
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    description: 'Revokes a key at once on every instance. Idempotent.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { platform, principal }) => {
      if (principal.kind === 'anonymous') throw unauthenticated('sign in or send a secret key');
      const existing = /^[0-9a-f-]{36}$/i.test(String(id)) ? await findApiKey(platform.pool, String(id)) : undefined;
      if (!existing || (principal.kind === 'key' && principal.applicationId !== existing.applicationId)) {
        throw notFound(`API key ${String(id)} does not exist`);
      }
      requireAdminOf(principal, existing.applicationId, existing.environment);
      const revoked = (await revokeApiKey(platform.pool, existing.id)) as ApiKey;
      await platform.announce({ type: 'key-revoked', keyId: revoked.id });
      return revoked;
    },
  }),
);
