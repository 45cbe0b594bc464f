import {
  createCollection,
  forbidden,
  listCollections,
  requireAdminOf,
  setCollectionAccess,
  unauthenticated,
  type DocumentCollection,
  type DocumentRule,
  type EnvironmentName,
  type Principal,
} from '@realtime/core';
import { builder } from '../builder.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

const DocumentRuleMatchEnum = builder.enumType('DocumentRuleMatch', {
  values: {
    EQUALS: { description: 'The document id equals the claim’s value.' },
    PREFIX: { description: 'The document id starts with the claim’s value and a colon (`<value>:…`).' },
  },
});

const DocumentRuleRef = builder.objectRef<DocumentRule>('DocumentRule').implement({
  description: 'Binds end users (publishable keys, with a token) to the documents whose id matches the value of a token claim. Every rule of a collection must hold.',
  fields: (t) => ({
    claim: t.exposeString('claim'),
    match: t.field({ type: DocumentRuleMatchEnum, resolve: (rule) => rule.match }),
  }),
});

const DocumentRuleInput = builder.inputType('DocumentRuleInput', {
  fields: (t) => ({
    claim: t.string({ required: true, description: 'A token claim, e.g. `sub`.' }),
    match: t.field({ type: DocumentRuleMatchEnum, description: 'Default EQUALS.' }),
  }),
});

export const DocumentCollectionRef = builder.objectRef<DocumentCollection>('DocumentCollection').implement({
  description: 'A collection of JSON documents (sync) in one application environment, with who may read and write them.',
  fields: (t) => ({
    name: t.exposeString('name'),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (c) => c.environment }),
    public: t.exposeBoolean('public', { description: 'Publishable keys read it without an end-user token (unless it has rules).' }),
    clientWrites: t.exposeBoolean('clientWrites', {
      description: 'Publishable keys with an end-user token whose `documents` claim grants the collection may write.',
    }),
    rules: t.field({ type: [DocumentRuleRef], resolve: (c) => c.rules }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
  }),
});

const CollectionAccessFields = {
  public: 'Publishable keys read without an end-user token. Default false.',
  clientWrites: 'End users (publishable key with a granting token) may write. Default false.',
};

builder.mutationField('createCollection', (t) =>
  t.field({
    type: DocumentCollectionRef,
    description:
      'Creates a document collection. Idempotent for identical settings; other settings for an existing name are a CONFLICT (use setCollectionAccess).',
    args: {
      input: t.arg({
        type: builder.inputType('CreateCollectionInput', {
          fields: (f) => ({
            applicationId: f.id({ required: true }),
            environment: f.field({ type: EnvironmentNameEnum, required: true }),
            name: f.string({ required: true, description: 'Dotted lower-case words, e.g. `boards` or `game.rooms`.' }),
            public: f.boolean({ description: CollectionAccessFields.public }),
            clientWrites: f.boolean({ description: CollectionAccessFields.clientWrites }),
            rules: f.field({ type: [DocumentRuleInput], description: 'Claim rules binding end users to documents. Default none.' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, { platform, principal }) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      requireAdminOf(principal, scope.applicationId, scope.environment);
      const { collection } = await createCollection(platform.pool, scope, input.name, input);
      return collection;
    },
  }),
);

builder.mutationField('setCollectionAccess', (t) =>
  t.field({
    type: DocumentCollectionRef,
    description: 'Changes who may read and write a collection (omitted fields are kept). Every instance applies it within 5 s.',
    args: {
      input: t.arg({
        type: builder.inputType('SetCollectionAccessInput', {
          fields: (f) => ({
            applicationId: f.id({ required: true }),
            environment: f.field({ type: EnvironmentNameEnum, required: true }),
            name: f.string({ required: true }),
            public: f.boolean({ description: CollectionAccessFields.public }),
            clientWrites: f.boolean({ description: CollectionAccessFields.clientWrites }),
            rules: f.field({ type: [DocumentRuleInput] }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, { platform, principal }) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      requireAdminOf(principal, scope.applicationId, scope.environment);
      const collection = await setCollectionAccess(platform.pool, scope, input.name, input);
      await platform.announce({ type: 'collection-changed', scope, name: input.name });
      return collection;
    },
  }),
);

function requireReaderOf(principal: Principal, applicationId: string, environment: EnvironmentName): void {
  if (principal.kind === 'user') return;
  if (principal.kind === 'anonymous') throw unauthenticated('sign in or send an API key of this application');
  if (principal.applicationId !== applicationId || principal.environment !== environment) {
    throw forbidden('this key belongs to another application or environment');
  }
}

builder.queryField('collections', (t) =>
  t.field({
    type: [DocumentCollectionRef],
    description: 'The document collections of one application environment, by name.',
    args: { applicationId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentNameEnum, required: true }) },
    resolve: (_root, args, { platform, principal }) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment };
      requireReaderOf(principal, scope.applicationId, scope.environment);
      return listCollections(platform.pool, scope);
    },
  }),
);
