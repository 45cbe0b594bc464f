// The public surface of @realtime/core. Internals not listed here are not reachable from other packages.
export { loadConfig, parseDuration, ConfigError, type Config, type WebhookConfig, type LogLevel } from './config.js';
export {
  ERROR_CODES,
  CLOSE_CODES,
  ENVIRONMENTS,
  toCloudEvent,
  formatCursor,
  parseCursor,
  type ErrorCode,
  type EnvironmentName,
  type EventEnvelope,
  type Cursor,
} from './protocol.js';
export { RealtimeError, badInput, forbidden, notFound, unauthenticated } from './errors.js';
export { assertSafeJson, jsonPointer } from './json.js';
export { createPool, ensureDatabase, migrate, transaction, redactUrl, ServiceUnreachableError, type Pool } from './db/pool.js';
export type { Queryable } from './db/queryable.js';
export { hashPassword, verifyPassword, hashSecret, randomToken } from './auth/secrets.js';
export {
  requireUser,
  requireAdminOf,
  requireSecretKey,
  requireKey,
  type Principal,
  type KeyPrincipal,
  type UserPrincipal,
  type UserRole,
  type ApiKeyKind,
} from './auth/principal.js';
export {
  verifyEndUserToken,
  readEnvironmentAuth,
  rotateJwtSecret,
  setJwksUrl,
  topicGranted,
  claimBoundFilter,
  type EndUser,
  type EnvironmentAuth,
  type ClaimFilter,
} from './auth/end-user.js';
export { createSecretBox, type SecretBox } from './auth/encryption.js';
export { createUser, findUserById, authenticateUser, ensureOwner, type User } from './auth/users.js';
export { createSession, resolveSession, deleteSession } from './auth/sessions.js';
export { createApplication, findApplication, listApplications, isUuid, type Application } from './apps/applications.js';
export { createApiKey, findApiKey, listApiKeys, revokeApiKey, resolveApiKey, type ApiKey } from './apps/api-keys.js';
export { createKeyCache, type KeyCache } from './apps/key-cache.js';
export {
  assertTopicName,
  isTopicName,
  topicFieldName,
  topicTypeName,
  RESERVED_FIELD_NAMES,
} from './registry/topic-names.js';
export { compileTopicSchema, assertMatchesSchema, type SchemaViolation } from './registry/json-schema.js';
export {
  registerTopic,
  PLATFORM_TOPIC_PREFIX,
  registerSchemaVersion,
  setTopicCompatibility,
  setTopicRetention,
  setTopicAccess,
  type TopicAccess,
  checkTopicCompatibility,
  findTopic,
  listTopics,
  listSchemaVersions,
  findSchemaVersion,
  registryRevision,
  topicValidator,
  schemaValidator,
  type Topic,
  type SchemaVersion,
  type Retention,
  type CompatibilityReport,
} from './registry/topics.js';
export {
  COMPATIBILITY_MODES,
  checkCompatibility,
  findIncompatibilities,
  type CompatibilityMode,
  type BreakingChange,
  type SchemaChange,
} from './registry/compatibility.js';
export { createRegistryCache, type RegistryCache, type TopicSet } from './registry/registry-cache.js';
export { diffSchemas, type SchemaDiffEntry } from './registry/schema-diff.js';
export { connectRedis, createWriteCoalescer, type Redis } from './redis/connection.js';
export { createTickCorks, type Corkable, type TickCorks } from './tick-corks.js';
export { topicKeys, registryChannel, broadcastChannel, leaseKey, type Scope, type TopicKeys } from './redis/keys.js';
export { createMessageDecoder, createSubscriber, decodeMessage, type DispatchBatch, type Subscriber, type EventListener } from './redis/subscriber.js';
export { ATTACH_SINK, createEventIterator, type EventIteratorOptions, type ItemSink, type SinkAttachable } from './redis/event-iterator.js';
export { readHistoryBatch, readHistoryState, type HistoryBatch, type HistoryState } from './redis/history.js';
export { comparePositions, positionOf } from './redis/positions.js';
export {
  openTopicStream,
  isHistoryGap,
  historyGapError,
  type HistoryGap,
  type StreamItem,
  type TopicStreamOptions,
} from './events/topic-stream.js';
export { buildEnvelope, normalizeTraceparent, type EnvelopeInput } from './events/envelope.js';
export {
  createPublisher,
  type Publisher,
  type PreparedPublish,
  type PublishInput,
  type PublishScope,
  type SystemPublishInput,
} from './events/publisher.js';
export { publishPlatformEvent, PLATFORM_TOPICS, type PlatformTopic, type PlatformEventDeps } from './events/platform-events.js';
export { createPlatform, type Platform, type PlatformOptions, type ControlMessage } from './platform.js';
export { createPresence, presenceKeys, type Presence, type PresenceMember, type PresenceChange, type PresenceKeys } from './presence/presence.js';
export { parseLsn, formatLsn, normalizeLsn } from './cdc/lsn.js';
export { columnValue, columnSchema, rowSchema, type ColumnInfo } from './cdc/pg-types.js';
export { changeEventSchema, deterministicEventId, type ChangeEventData, type ChangeOperation } from './cdc/change-event.js';
export {
  CDC_OPERATIONS,
  insertCdcSource,
  findCdcSource,
  listCdcSources,
  reportCdcSource,
  setCdcSourcePaused,
  requestCdcSnapshot,
  deleteCdcSourceRow,
  usesReplication,
  lagSeconds,
  type CdcSource,
  type CdcTable,
  type CdcOperationName,
  type CdcSourceStatus,
  type CdcSourceReport,
  type OutboxMode,
} from './cdc/cdc-sources.js';
export {
  parseTableName,
  qualifiedName,
  slotName,
  snapshotSlotName,
  publicationName,
  connectSource,
  readColumns,
  checkSource,
  ensurePublication,
  readSlot,
  slotLost,
  dropSlot,
  dropSourceObjects,
  createSlot,
  type SlotState,
} from './cdc/source-database.js';
export { ensureCdcTopic, capturedColumns, type CdcTopicDeps } from './cdc/cdc-topics.js';
export { isForbiddenAddress, assertWebhookUrl, systemResolver, bareHostname, type HostResolver, type WebhookUrlRules } from './webhooks/url-safety.js';
export { generateWebhookSecret, signWebhook, webhookHeaders, WEBHOOK_SECRET_PREFIX } from './webhooks/signing.js';
export { compileWebhookFilter, type WebhookFilter, type EventPredicate } from './webhooks/filter.js';
export {
  createWebhookEndpoint,
  updateWebhookEndpoint,
  findWebhookEndpoint,
  findWebhookEndpointRecord,
  listWebhookEndpoints,
  listEnabledWebhookEndpoints,
  setWebhookEndpointStatus,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  signingSecrets,
  compileEndpointMatcher,
  endpointCoversTopic,
  publicEndpoint,
  type WebhookEndpoint,
  type WebhookEndpointRecord,
  type WebhookEndpointStatus,
  type EndpointMatcher,
  type EndpointUrlOptions,
  type CreateWebhookEndpointInput,
  type UpdateWebhookEndpointInput,
} from './webhooks/endpoints.js';
export {
  deliveryIdFor,
  webhookJobId,
  findUnrecordedDeliveries,
  insertDeliveries,
  recordAttempt,
  recordAttempts,
  markDeliveryDead,
  hasEarlierUnfinished,
  findDelivery,
  listAttempts,
  listDeliveries,
  endpointSummary,
  deleteExpiredDeliveries,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookAttempt,
  type NewDelivery,
  type QueuedDelivery,
  type AttemptRecord,
  type DeliveryQuery,
  type DeliveryPage,
  type EndpointSummary,
  type RetentionOptions,
} from './webhooks/deliveries.js';
export {
  WEBHOOK_QUEUE,
  WEBHOOK_BACKOFF,
  webhookQueuePrefix,
  withJitter,
  createWebhookQueue,
  webhookQueueOf,
  enqueueDeliveries,
  type WebhookJobData,
  type WebhookQueue,
} from './webhooks/queue.js';
export {
  replayWebhookEndpoint,
  redeliverWebhook,
  sendTestWebhook,
  MAX_REPLAY_EVENTS,
  TEST_WEBHOOK_TOPIC,
  type WebhookOperationDeps,
} from './webhooks/operations.js';
export { webhookVersionKey, webhookEndpointsChanged, type WebhookChangeDeps } from './webhooks/changes.js';
export {
  createDocumentStore,
  type DocumentStore,
  type DocumentStoreOptions,
  type DocumentWrite,
  type WriteOptions,
  type WatchOptions,
} from './documents/document-store.js';
export type { DocumentSnapshot, DocumentChange } from './documents/document-types.js';
export {
  createCollection,
  setCollectionAccess,
  findCollection,
  listCollections,
  type DocumentCollection,
  type DocumentRule,
  type CollectionAccessInput,
} from './documents/collections.js';
export { documentScope, authorizeDocument, documentIdAllowed, type DocumentAccessMode } from './documents/document-access.js';
export { assertCollectionName, assertDocumentId } from './documents/document-names.js';
export { documentKeys, type DocumentKeys } from './documents/document-keys.js';
