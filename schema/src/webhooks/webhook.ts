import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  endpointSummary,
  findApplication,
  findDelivery,
  findWebhookEndpoint,
  listAttempts,
  listDeliveries,
  listWebhookEndpoints,
  notFound,
  redeliverWebhook,
  replayWebhookEndpoint,
  requireAdminOf,
  rotateWebhookSecret,
  sendTestWebhook,
  setWebhookEndpointStatus,
  toCloudEvent,
  updateWebhookEndpoint,
  webhookQueueOf,
  webhookEndpointsChanged,
  RealtimeError,
  type DeliveryPage,
  type EndpointSummary,
  type EnvironmentName,
  type Platform,
  type Principal,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookOperationDeps,
} from '@realtime/core';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

const WebhookEndpointStatusEnum = builder.enumType('WebhookEndpointStatus', {
  values: {
    ENABLED: { description: 'Receives new events.' },
    DISABLED: { description: 'Receives nothing: disabled by a user, after a 410 Gone, or after failing without a success for REALTIME_WEBHOOK_DISABLE_AFTER.' },
  },
});

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: {
    PENDING: { description: 'Queued for its first attempt (or, after redeliver, its next). A first attempt the dispatcher sends itself, without queueing, is listed once it has an outcome.' },
    FAILED: { description: 'The last attempt failed; another is scheduled at nextAttemptAt.' },
    SUCCEEDED: { description: 'An attempt got a 2xx response.' },
    DEAD: { description: 'Dead-lettered: every attempt failed, or the endpoint answered 410 or was disabled. Send it again with redeliver.' },
  },
});

const SummaryRef = builder.objectRef<EndpointSummary>('WebhookEndpointSummary').implement({
  description: 'Health of an endpoint over a window of attempts.',
  fields: (t) => ({
    attempts: t.exposeInt('attempts'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'succeeded / attempts (0–1); null without attempts.' }),
    p50LatencyMs: t.exposeFloat('p50LatencyMs', { nullable: true }),
    p99LatencyMs: t.exposeFloat('p99LatencyMs', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastErrorAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastErrorAt }),
    deadLetters: t.exposeInt('deadLetters', { description: 'Deliveries of this endpoint dead-lettered now.' }),
  }),
});

export const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint').implement({
  description: 'An HTTPS URL that receives the events of some topics, signed per Standard Webhooks, with retries and dead letters.',
  fields: (t) => ({
    id: t.exposeID('id'),
    applicationId: t.exposeID('applicationId'),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (e) => e.environment }),
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    topics: t.exposeStringList('topics', { description: 'Topic names or patterns: `order.*` (one word), `order.**` (any depth), `**` (all).' }),
    filter: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.filter }),
    ordered: t.exposeBoolean('ordered', { description: 'FIFO per subject: a later event of a subject waits until the earlier one succeeded or was dead-lettered.' }),
    status: t.field({ type: WebhookEndpointStatusEnum, resolve: (e) => e.status }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    disabledAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.disabledAt }),
    activeSince: t.field({ type: 'DateTime', description: 'Events published before this are not sent (replay sends them).', resolve: (e) => e.activeSince }),
    failingSince: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.failingSince }),
    lastSuccessAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.lastSuccessAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (e) => e.updatedAt }),
    summary: t.field({
      type: SummaryRef,
      description: 'Success rate, latency percentiles and the last error over the attempts since `since` (default: the last 24 hours).',
      args: { since: t.arg({ type: 'DateTime' }) },
      resolve: (e, args, { platform }) => endpointSummary(platform.pool, e.id, args.since ?? new Date(Date.now() - 86_400_000)),
    }),
  }),
});

const WebhookAttemptRef = builder.objectRef<WebhookAttempt>('WebhookAttempt').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    attemptedAt: t.field({ type: 'DateTime', resolve: (a) => a.attemptedAt }),
    succeeded: t.exposeBoolean('succeeded'),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'Null when no response arrived.' }),
    latencyMs: t.exposeInt('latencyMs'),
    responseExcerpt: t.exposeString('responseExcerpt', { nullable: true, description: 'The first 4 KiB of the response body at most.' }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

export const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One event for one endpoint, with every attempt made.',
  fields: (t) => ({
    id: t.exposeID('id'),
    endpointId: t.exposeID('endpointId'),
    eventId: t.exposeString('eventId', { description: 'Also the webhook-id header of every attempt.' }),
    topic: t.exposeString('topic'),
    subject: t.exposeString('subject', { nullable: true }),
    origin: t.exposeString('origin', { description: '`live`, `replay:<id>` or `test:<id>`.' }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attemptCount: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.nextAttemptAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updatedAt }),
    payload: t.field({ type: 'JSON', description: 'The body sent: the event in CloudEvents 1.0 JSON form.', resolve: (d) => toCloudEvent(d.event) }),
    attempts: t.field({ type: [WebhookAttemptRef], description: 'Every attempt, oldest first.', resolve: (d, _args, { platform }) => listAttempts(platform.pool, d.id) }),
  }),
});

const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('WebhookPageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.exposeString('endCursor', { nullable: true }) }),
});

const DeliveryConnectionRef = builder.objectRef<DeliveryPage>('WebhookDeliveryConnection').implement({
  fields: (t) => ({
    nodes: t.field({ type: [WebhookDeliveryRef], resolve: (p) => p.nodes }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (p) => ({ hasNextPage: p.hasNextPage, endCursor: p.endCursor }) }),
  }),
});

/** Signed-in users, or a SECRET key of this application and environment (like the topic registry). */
async function requireAdmin(context: GraphQLContext, applicationId: string, environment: EnvironmentName): Promise<void> {
  requireAdminOf(context.principal, applicationId, environment);
  if (!(await findApplication(context.platform.pool, applicationId))) throw notFound(`application ${applicationId} does not exist`);
}

/** A key of another application environment learns nothing, not even that the id exists. */
function visibleTo(principal: Principal, thing: { applicationId: string; environment: EnvironmentName }): boolean {
  return principal.kind !== 'key' || (principal.applicationId === thing.applicationId && principal.environment === thing.environment);
}

async function endpointOrThrow(context: GraphQLContext, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findWebhookEndpoint(context.platform.pool, id);
  if (!endpoint || !visibleTo(context.principal, endpoint)) throw notFound(`webhook endpoint ${id} does not exist`);
  requireAdminOf(context.principal, endpoint.applicationId, endpoint.environment);
  return endpoint;
}

async function deliveryOrThrow(context: GraphQLContext, id: string): Promise<WebhookDelivery> {
  const delivery = await findDelivery(context.platform.pool, id);
  if (!delivery || !visibleTo(context.principal, delivery)) throw notFound(`webhook delivery ${id} does not exist`);
  requireAdminOf(context.principal, delivery.applicationId, delivery.environment);
  return delivery;
}

/** Sending to a disabled endpoint would only dead-letter: say so instead. */
function assertEnabled(endpoint: WebhookEndpoint): void {
  if (endpoint.status !== 'ENABLED') {
    throw new RealtimeError(
      'CONFLICT',
      `webhook endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? 'by a user'}); enable it first (enableWebhookEndpoint)`,
      { endpointId: endpoint.id },
    );
  }
}

const operationDeps = (platform: Platform): WebhookOperationDeps => ({
  db: platform.pool,
  redis: platform.redis,
  config: platform.config,
  registry: platform.registry,
  queue: webhookQueueOf(platform),
});

const urlOptions = (platform: Platform): { allowPrivate: boolean } => ({ allowPrivate: platform.config.webhooks.allowPrivate });

/** After a committed change: raise the scope's endpoint version (dispatchers check it per batch) and announce it. */
const announce = (platform: Platform, endpoint: WebhookEndpoint): Promise<void> => webhookEndpointsChanged(platform, endpoint);

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpointRef],
    description: 'The webhook endpoints of one application environment.',
    args: { applicationId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentNameEnum, required: true }) },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      return listWebhookEndpoints(context.platform.pool, scope);
    },
  }),
);

builder.queryField('webhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => endpointOrThrow(context, String(args.id)),
  }),
);

builder.queryField('webhookDeliveries', (t) =>
  t.field({
    type: DeliveryConnectionRef,
    description: 'Deliveries of one application environment, newest first; narrow by endpoint, event id or status. Pages of `first` (1–100, default 20) after `after` (pageInfo.endCursor).',
    args: {
      applicationId: t.arg.id({ required: true }),
      environment: t.arg({ type: EnvironmentNameEnum, required: true }),
      endpointId: t.arg.id(),
      eventId: t.arg.string(),
      status: t.arg({ type: WebhookDeliveryStatusEnum }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, context) => {
      const scope = { applicationId: String(args.applicationId), environment: args.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      return listDeliveries(context.platform.pool, {
        ...scope,
        endpointId: args.endpointId == null ? null : String(args.endpointId),
        eventId: args.eventId,
        status: args.status,
        first: args.first,
        after: args.after,
      });
    },
  }),
);

builder.queryField('webhookDelivery', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => deliveryOrThrow(context, String(args.id)),
  }),
);

builder.queryField('deadLetters', (t) =>
  t.field({
    type: DeliveryConnectionRef,
    description: 'Dead-lettered deliveries of one endpoint, newest first. Send one again with redeliver.',
    args: { endpointId: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, context) => {
      const endpoint = await endpointOrThrow(context, String(args.endpointId));
      return listDeliveries(context.platform.pool, {
        applicationId: endpoint.applicationId,
        environment: endpoint.environment,
        endpointId: endpoint.id,
        status: 'DEAD',
        first: args.first,
        after: args.after,
      });
    },
  }),
);

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    url: t.string({ required: true, description: 'https (http allowed outside PROD); private and loopback addresses are refused unless REALTIME_WEBHOOK_ALLOW_PRIVATE=1.' }),
    topics: t.stringList({ required: true, description: 'Topic names or patterns: `order.updated`, `order.*`, `order.**`, `**`.' }),
    filter: t.field({ type: 'JSON', description: 'Only events matching it: `{ "data.status": { "in": ["PAID"] }, "subject": "o-1" }` (see docs/protocol.md).' }),
    description: t.string(),
    ordered: t.boolean({ description: 'FIFO per subject. Default false.' }),
  }),
});

const SecretPayloadRef = builder.objectRef<{ secret: string; endpoint: WebhookEndpoint }>('WebhookSecretPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: '`whsec_…`: verify signatures with it (Standard Webhooks). Shown once; stored encrypted.' }),
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (p) => p.endpoint }),
  }),
});

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: SecretPayloadRef,
    description: 'Creates an endpoint; events published from now on that match its topics and filter are sent to it.',
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      await requireAdmin(context, scope.applicationId, scope.environment);
      const result = await createWebhookEndpoint(
        context.platform.pool,
        context.platform.secrets,
        { ...scope, url: input.url, topics: input.topics, filter: input.filter, description: input.description, ordered: input.ordered },
        urlOptions(context.platform),
      );
      await announce(context.platform, result.endpoint);
      return result;
    },
  }),
);

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    topics: t.stringList(),
    filter: t.field({ type: 'JSON', description: 'null clears it; omitted keeps it.' }),
    description: t.string(),
    ordered: t.boolean(),
  }),
});

builder.mutationField('updateWebhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    description: 'Changes the given fields of an endpoint; omitted ones are kept.',
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const current = await endpointOrThrow(context, String(input.id));
      const endpoint = await updateWebhookEndpoint(
        context.platform.pool,
        current.id,
        { url: input.url, topics: input.topics, filter: input.filter, description: input.description, ordered: input.ordered },
        urlOptions(context.platform),
      );
      await announce(context.platform, endpoint);
      return endpoint;
    },
  }),
);

for (const [name, status, description] of [
  ['disableWebhookEndpoint', 'DISABLED', 'Stops sending to an endpoint; queued deliveries are dead-lettered when their turn comes.'],
  ['enableWebhookEndpoint', 'ENABLED', 'Sends to an endpoint again, from events published now on (replay sends earlier ones).'],
] as const) {
  builder.mutationField(name, (t) =>
    t.field({
      type: WebhookEndpointRef,
      description,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, args, context) => {
        const current = await endpointOrThrow(context, String(args.id));
        const result = await setWebhookEndpointStatus(context.platform.pool, current.id, status, status === 'DISABLED' ? 'disabled by a user' : null);
        if (!result) throw notFound(`webhook endpoint ${current.id} does not exist`);
        if (result.changed) await announce(context.platform, result.endpoint);
        return result.endpoint;
      },
    }),
  );
}

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.boolean({
    description: 'Deletes an endpoint with its deliveries and attempts.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const endpoint = await endpointOrThrow(context, String(args.id));
      const deleted = await deleteWebhookEndpoint(context.platform.pool, endpoint.id);
      await announce(context.platform, endpoint);
      return deleted;
    },
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: SecretPayloadRef,
    description: 'Replaces the signing secret. Both signatures are sent for REALTIME_WEBHOOK_SECRET_OVERLAP (24 h by default) so receivers can switch.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const endpoint = await endpointOrThrow(context, String(args.id));
      const result = await rotateWebhookSecret(context.platform.pool, context.platform.secrets, endpoint.id, context.platform.config.webhooks.secretOverlapMs);
      await announce(context.platform, result.endpoint);
      return result;
    },
  }),
);

builder.mutationField('redeliver', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description: 'Sends a delivery again at once (a dead letter, or any other), with a fresh retry schedule and the same webhook-id.',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const delivery = await deliveryOrThrow(context, String(args.deliveryId));
      assertEnabled(await endpointOrThrow(context, delivery.endpointId));
      const restarted = await redeliverWebhook(operationDeps(context.platform), delivery.id);
      if (!restarted) throw notFound(`webhook delivery ${delivery.id} does not exist`);
      return restarted;
    },
  }),
);

const ReplayPayloadRef = builder.objectRef<{ replayId: string; queued: number; truncated: boolean }>('WebhookReplayPayload').implement({
  fields: (t) => ({
    replayId: t.exposeID('replayId', { description: 'Deliveries of this replay have origin `replay:<replayId>`.' }),
    queued: t.exposeInt('queued', { description: 'Events queued for delivery.' }),
    truncated: t.exposeBoolean('truncated', { description: 'True when the range held more than 10,000 matching events and only the first were queued.' }),
  }),
});

builder.mutationField('replayWebhookEndpoint', (t) =>
  t.field({
    type: ReplayPayloadRef,
    description: 'Re-sends to one endpoint every event of its topics and filter stored in history between since and until (inclusive). Events older than the topics’ retention are gone.',
    args: {
      endpointId: t.arg.id({ required: true }),
      since: t.arg({ type: 'DateTime', required: true }),
      until: t.arg({ type: 'DateTime' }),
    },
    resolve: async (_root, args, context) => {
      const endpoint = await endpointOrThrow(context, String(args.endpointId));
      assertEnabled(endpoint);
      return replayWebhookEndpoint(operationDeps(context.platform), endpoint, { since: args.since, until: args.until ?? new Date() });
    },
  }),
);

builder.mutationField('sendTestWebhook', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description: 'Sends a signed `realtime.webhook.test` event to an endpoint, to check its URL and signature verification.',
    args: { endpointId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const endpoint = await endpointOrThrow(context, String(args.endpointId));
      assertEnabled(endpoint);
      return sendTestWebhook(operationDeps(context.platform), endpoint);
    },
  }),
);
