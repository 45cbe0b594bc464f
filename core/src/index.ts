// The public surface of @realtime/core. Internals not listed here are not reachable from other packages.
export { loadConfig, ConfigError, type Config, type LogLevel } from './config.js';
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
export { connectRedis, type Redis } from './redis/connection.js';
export { topicKeys, registryChannel, broadcastChannel, type Scope, type TopicKeys } from './redis/keys.js';
export { createSubscriber, decodeMessage, type Subscriber, type EventListener } from './redis/subscriber.js';
export { createEventIterator, type EventIteratorOptions } from './redis/event-iterator.js';
export { readHistory, readHistoryState, type HistoryState } from './redis/history.js';
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
  type PublishInput,
  type PublishScope,
  type SystemPublishInput,
} from './events/publisher.js';
export { publishPlatformEvent, PLATFORM_TOPICS, type PlatformTopic, type PlatformEventDeps } from './events/platform-events.js';
export { createPlatform, type Platform, type PlatformOptions, type ControlMessage } from './platform.js';
export { createPresence, presenceKeys, type Presence, type PresenceMember, type PresenceChange, type PresenceKeys } from './presence/presence.js';
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
