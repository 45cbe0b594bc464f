import {
  authorizeDocument,
  documentIdAllowed,
  documentScope,
  type DocumentAccessMode,
  type DocumentChange,
  type DocumentCollection,
  type DocumentSnapshot,
  type EnvironmentName,
} from '@realtime/core';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

const DocumentRef = builder.objectRef<DocumentSnapshot>('Document').implement({
  description: 'A JSON document of a collection (sync).',
  fields: (t) => ({
    collection: t.exposeString('collection'),
    id: t.exposeID('id'),
    version: t.exposeInt('version', { description: 'Rises by one with every write. Pass it as ifVersion to write only if nobody wrote since.' }),
    state: t.field({ type: 'JSON', description: 'The document: a JSON object.', resolve: (d) => d.state }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updatedAt as string }),
  }),
});

const DeletedDocumentRef = builder
  .objectRef<DocumentSnapshot>('DeletedDocument')
  .implement({
    fields: (t) => ({
      collection: t.exposeString('collection'),
      id: t.exposeID('id'),
      version: t.exposeInt('version', { description: 'The version of the deletion; a later setDocument continues from it.' }),
    }),
  });

const DocumentChangeOpEnum = builder.enumType('DocumentChangeOp', {
  values: {
    SNAPSHOT: { description: 'The whole state: first message, a client too far behind for patches, or a reload from storage.' },
    SET: { description: 'The state was replaced (setDocument): `state` holds it.' },
    PATCH: { description: 'JSON Patch operations (RFC 6902) that turn the previous version into this one.' },
    DELETE: { description: 'The document was deleted: `exists` is false.' },
  },
});

const DocumentChangeRef = builder.objectRef<DocumentChange>('DocumentChange').implement({
  description:
    'One step of a document, in version order without gaps or duplicates. When `patch` is null, replace your copy with `state` (null: the document does not exist); otherwise apply `patch` to the previous version.',
  fields: (t) => ({
    collection: t.exposeString('collection'),
    id: t.exposeID('id'),
    version: t.exposeInt('version', { description: 'The version after this change (0: never written).' }),
    op: t.field({ type: DocumentChangeOpEnum, resolve: (c) => c.op }),
    exists: t.exposeBoolean('exists'),
    patch: t.field({ type: ['JSON'], nullable: true, resolve: (c) => (c.patch ? [...c.patch] : null) }),
    state: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.state }),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.updatedAt }),
  }),
});

interface ScopeArgs {
  applicationId?: string | number | null | undefined;
  environment?: EnvironmentName | null | undefined;
  collection: string;
}

/** Resolves the scope and the collection, and checks the caller may `mode` the document (`id` null: the collection). */
async function authorize(context: GraphQLContext, args: ScopeArgs, id: string | null, mode: DocumentAccessMode): Promise<{ scope: ReturnType<typeof documentScope>; collection: DocumentCollection }> {
  const scope = documentScope(context.principal, {
    applicationId: args.applicationId == null ? null : String(args.applicationId),
    environment: args.environment ?? null,
  });
  const collection = await context.platform.documents.collection(scope, args.collection);
  authorizeDocument(context.principal, collection, id, mode);
  return { scope, collection };
}

const scopeArgs = {
  applicationId: 'Only for signed-in users: the application (API keys act in their own).',
  environment: 'Only for signed-in users: the environment (API keys act in their own).',
};

builder.queryField('document', (t) =>
  t.field({
    type: DocumentRef,
    nullable: true,
    description: 'One document, or null when it does not exist (never written, or deleted).',
    args: {
      collection: t.arg.string({ required: true }),
      id: t.arg.id({ required: true }),
      applicationId: t.arg.id({ description: scopeArgs.applicationId }),
      environment: t.arg({ type: EnvironmentNameEnum, description: scopeArgs.environment }),
    },
    resolve: async (_root, args, context) => {
      const id = String(args.id);
      const { scope } = await authorize(context, args, id, 'read');
      return context.platform.documents.get(scope, args.collection, id);
    },
  }),
);

builder.queryField('documents', (t) =>
  t.field({
    type: [DocumentRef],
    description:
      'Existing documents of a collection, ordered by id, a page at a time (`after`: the last id of the previous page). For end users, only documents their claims allow.',
    args: {
      collection: t.arg.string({ required: true }),
      first: t.arg.int({ description: 'Page size, 1–1000. Default 100.' }),
      after: t.arg.id(),
      applicationId: t.arg.id({ description: scopeArgs.applicationId }),
      environment: t.arg({ type: EnvironmentNameEnum, description: scopeArgs.environment }),
    },
    resolve: async (_root, args, context) => {
      const { scope, collection } = await authorize(context, args, null, 'read');
      const page = await context.platform.documents.list(scope, args.collection, {
        first: args.first ?? 100,
        after: args.after == null ? null : String(args.after),
      });
      return page.filter((d) => documentIdAllowed(context.principal, collection, d.id));
    },
  }),
);

const writeArgs = (t: Parameters<Parameters<typeof builder.mutationField>[1]>[0]) => ({
  collection: t.arg.string({ required: true }),
  id: t.arg.id({ required: true }),
  ifVersion: t.arg.int({ description: 'Write only if the document is at this version (0: never written); else CONFLICT with extensions.currentVersion.' }),
  applicationId: t.arg.id({ description: scopeArgs.applicationId }),
  environment: t.arg({ type: EnvironmentNameEnum, description: scopeArgs.environment }),
});

builder.mutationField('setDocument', (t) =>
  t.field({
    type: DocumentRef,
    description: 'Replaces a document’s state with a JSON object (creating the document when absent). Acknowledged only once stored durably.',
    args: { ...writeArgs(t), state: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, context) => {
      const id = String(args.id);
      const { scope } = await authorize(context, args, id, 'write');
      return context.platform.documents.set(scope, args.collection, id, args.state, { ifVersion: args.ifVersion });
    },
  }),
);

builder.mutationField('patchDocument', (t) =>
  t.field({
    type: DocumentRef,
    description:
      'Applies JSON Patch (RFC 6902) operations — add, remove, replace, move, copy, test — all or none. A failing operation (missing path, failed test) is BAD_USER_INPUT naming its index and path, and nothing is written.',
    args: { ...writeArgs(t), patch: t.arg({ type: ['JSON'], required: true, description: 'RFC 6902 operations, e.g. `{ op: "replace", path: "/title", value: "Hi" }`.' }) },
    resolve: async (_root, args, context) => {
      const id = String(args.id);
      const { scope } = await authorize(context, args, id, 'write');
      return context.platform.documents.patch(scope, args.collection, id, args.patch, { ifVersion: args.ifVersion });
    },
  }),
);

builder.mutationField('deleteDocument', (t) =>
  t.field({
    type: DeletedDocumentRef,
    description: 'Deletes an existing document. Its version keeps rising: a later setDocument creates it again at the next version.',
    args: writeArgs(t),
    resolve: async (_root, args, context) => {
      const id = String(args.id);
      const { scope } = await authorize(context, args, id, 'write');
      return context.platform.documents.delete(scope, args.collection, id, { ifVersion: args.ifVersion });
    },
  }),
);

builder.subscriptionField('document', (t) =>
  t.field({
    type: DocumentChangeRef,
    description:
      'A document’s changes, live. First a SNAPSHOT (without sinceVersion); with sinceVersion, the patches after it when the server still keeps them (REALTIME_DOCUMENT_PATCH_WINDOW), else a SNAPSHOT. Then every change in version order, without gaps or duplicates.',
    args: {
      collection: t.arg.string({ required: true }),
      id: t.arg.id({ required: true }),
      sinceVersion: t.arg.int({ description: 'The last version you have: resume after it.' }),
      applicationId: t.arg.id({ description: scopeArgs.applicationId }),
      environment: t.arg({ type: EnvironmentNameEnum, description: scopeArgs.environment }),
    },
    subscribe: async (_root, args, context) => {
      const id = String(args.id);
      const { scope } = await authorize(context, args, id, 'read');
      return context.platform.documents.watch(scope, args.collection, id, {
        sinceVersion: args.sinceVersion,
        bufferSize: context.platform.config.subscriberBufferSize,
        onOverflow: context.onSlowConsumer,
      });
    },
    resolve: (change) => change as DocumentChange,
  }),
);
