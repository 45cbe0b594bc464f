/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An instant as an ISO-8601 string in UTC, e.g. `2026-11-27T20:58:03.000Z`. */
  DateTime: { input: string; output: string; }
  /** Any JSON value (object, array, string, number, boolean or null). */
  JSON: { input: unknown; output: unknown; }
};

/** An API key. Its secret is shown once, by createApiKey; only a hash is stored. */
export type ApiKey = {
  __typename?: 'ApiKey';
  applicationId: Scalars['ID']['output'];
  createdAt: Scalars['DateTime']['output'];
  environment: EnvironmentName;
  /** Prefix and last four characters, to recognise the key. */
  hint: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  kind: ApiKeyKind;
  name?: Maybe<Scalars['String']['output']>;
  revokedAt?: Maybe<Scalars['DateTime']['output']>;
};

export enum ApiKeyKind {
  /** pk_…: subscribes. Safe to ship in browser and mobile apps. */
  Publishable = 'PUBLISHABLE',
  /** sk_…: publishes, and administers its own application and environment. Keep on servers. */
  Secret = 'SECRET'
}

/** A tenant: its environments, keys, topics and events are invisible to every other application. */
export type Application = {
  __typename?: 'Application';
  /** Keys of the application (console users only). */
  apiKeys: Array<ApiKey>;
  createdAt: Scalars['DateTime']['output'];
  environments: Array<Environment>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
};

export type BooleanFilter = {
  eq?: InputMaybe<Scalars['Boolean']['input']>;
  ne?: InputMaybe<Scalars['Boolean']['input']>;
};

/** A reason data of one version may be rejected by consumers of another. */
export type BreakingChange = {
  __typename?: 'BreakingChange';
  /** BACKWARD or FORWARD. */
  direction: Scalars['String']['output'];
  message: Scalars['String']['output'];
  /** JSON Pointer into the data (`/lines/*\/qty`). */
  path: Scalars['String']['output'];
  /** Stable rule id, e.g. REQUIRED_ADDED, ENUM_NARROWED. */
  rule: Scalars['String']['output'];
  /** The earlier version this was checked against. */
  version: Scalars['Int']['output'];
};

/** An ephemeral client message: delivered to connected subscribers, never stored or replayed. */
export type Broadcast = {
  __typename?: 'Broadcast';
  data: Scalars['JSON']['output'];
  /** The sender’s `sub`, when it had an end-user token. */
  from?: Maybe<Scalars['String']['output']>;
  time: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
};

/** How far the source’s replication slot is behind the database. `bytes`: WAL between the slot’s confirmed position and the server’s; `seconds`: time since the consumer last had nothing outstanding. */
export type CdcLag = {
  __typename?: 'CdcLag';
  bytes?: Maybe<Scalars['Float']['output']>;
  confirmedLsn?: Maybe<Scalars['String']['output']>;
  measuredAt?: Maybe<Scalars['DateTime']['output']>;
  seconds: Scalars['Int']['output'];
  /** True when bytes pass REALTIME_CDC_LAG_WARNING_BYTES or seconds pass REALTIME_CDC_LAG_WARNING_SECONDS. */
  warning: Scalars['Boolean']['output'];
  warningBytes: Scalars['Float']['output'];
  warningSeconds: Scalars['Int']['output'];
};

/** A row change a captured table publishes (snapshots add `read` events regardless). */
export enum CdcOperation {
  Delete = 'DELETE',
  Insert = 'INSERT',
  Update = 'UPDATE'
}

export type CdcOutbox = {
  __typename?: 'CdcOutbox';
  mode: OutboxMode;
  table: Scalars['String']['output'];
};

export type CdcOutboxInput = {
  /** Default STREAM. */
  mode?: InputMaybe<OutboxMode>;
  /** Default `public.realtime_outbox`. */
  table?: InputMaybe<Scalars['String']['input']>;
};

/** A database captured into topics: row changes of its tables by logical replication, and rows of its outbox table. Its connection string is stored encrypted and never returned. */
export type CdcSource = {
  __typename?: 'CdcSource';
  applicationId: Scalars['ID']['output'];
  createdAt: Scalars['DateTime']['output'];
  environment: EnvironmentName;
  id: Scalars['ID']['output'];
  lag: CdcLag;
  lastError?: Maybe<Scalars['String']['output']>;
  lastErrorAt?: Maybe<Scalars['DateTime']['output']>;
  lastSnapshotAt?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  outbox?: Maybe<CdcOutbox>;
  paused: Scalars['Boolean']['output'];
  publicationName?: Maybe<Scalars['String']['output']>;
  /** The replication slot the platform owns in the database. */
  slotName?: Maybe<Scalars['String']['output']>;
  /** A snapshot is asked for and not yet complete. */
  snapshotRequested: Scalars['Boolean']['output'];
  status: CdcSourceStatus;
  tables: Array<CdcTable>;
};

export enum CdcSourceStatus {
  /** The last attempt failed (lastError says why); it is retried every poll. A lost slot also passes through ERROR, publishes realtime.cdc.source.gap, and recovers with a fresh slot and snapshot. */
  Error = 'ERROR',
  /** Paused by pauseCdcSource: nothing is read, and the slot keeps WAL until resumed. */
  Paused = 'PAUSED',
  /** Streaming (or polling the outbox). */
  Running = 'RUNNING',
  /** Publishing existing rows as op `read`; changes committed meanwhile follow the snapshot. */
  Snapshotting = 'SNAPSHOTTING',
  /** Waiting for a worker (the `cdc` or `outbox` role) to take the source. */
  Starting = 'STARTING'
}

/** A captured table and the topic its changes are published to. */
export type CdcTable = {
  __typename?: 'CdcTable';
  /** Captured columns; null means all. */
  columns?: Maybe<Array<Scalars['String']['output']>>;
  operations: Array<CdcOperation>;
  /** `schema.table`. */
  table: Scalars['String']['output'];
  topic: Scalars['String']['output'];
};

export type CdcTableInput = {
  /** Columns carried in before/after. Default: all. */
  columns?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Default: INSERT, UPDATE, DELETE. */
  operations?: InputMaybe<Array<CdcOperation>>;
  /** `schema.table` (a bare name means `public`). */
  table: Scalars['String']['input'];
  /** Topic the changes are published to; registered (or versioned) with a schema generated from the columns. */
  topic: Scalars['String']['input'];
};

/** Deliver an event to an end user only where `data.<path>` equals the value of the token claim `<claim>`. */
export type ClaimFilter = {
  __typename?: 'ClaimFilter';
  claim: Scalars['String']['output'];
  path: Scalars['String']['output'];
};

export type ClaimFilterInput = {
  /** Token claim whose value it must equal, e.g. `sub`. */
  claim: Scalars['String']['input'];
  /** Dotted path into the event data, e.g. `customerId`. */
  path: Scalars['String']['input'];
};

/** How a new schema version must relate to earlier ones (Confluent Schema Registry’s modes). BACKWARD: consumers on the new schema read data written with the latest version; FORWARD: consumers on the latest version read data written with the new one; FULL: both. *_TRANSITIVE: against every earlier version. NONE: no check. */
export enum CompatibilityMode {
  Backward = 'BACKWARD',
  BackwardTransitive = 'BACKWARD_TRANSITIVE',
  Forward = 'FORWARD',
  ForwardTransitive = 'FORWARD_TRANSITIVE',
  Full = 'FULL',
  FullTransitive = 'FULL_TRANSITIVE',
  None = 'NONE'
}

export type CompatibilityResult = {
  __typename?: 'CompatibilityResult';
  breakingChanges: Array<BreakingChange>;
  compatible: Scalars['Boolean']['output'];
};

export type CreateApiKeyInput = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  kind: ApiKeyKind;
  name?: InputMaybe<Scalars['String']['input']>;
};

export type CreateApiKeyPayload = {
  __typename?: 'CreateApiKeyPayload';
  key: ApiKey;
  /** The key itself. Shown only here, once: store it now. */
  secret: Scalars['String']['output'];
};

export type CreateApplicationInput = {
  name: Scalars['String']['input'];
};

export type CreateCdcSourceInput = {
  applicationId: Scalars['ID']['input'];
  /** postgres://… of a role with REPLICATION that owns the tables. Stored encrypted. */
  connectionString: Scalars['String']['input'];
  environment: EnvironmentName;
  name: Scalars['String']['input'];
  /** Relay an outbox table of this database. */
  outbox?: InputMaybe<CdcOutboxInput>;
  /** Publish existing rows as op `read` first. Default true. */
  snapshot?: InputMaybe<Scalars['Boolean']['input']>;
  /** Tables to capture. Default none (an outbox alone). */
  tables?: InputMaybe<Array<CdcTableInput>>;
};

export type CreateCollectionInput = {
  applicationId: Scalars['ID']['input'];
  /** End users (publishable key with a granting token) may write. Default false. */
  clientWrites?: InputMaybe<Scalars['Boolean']['input']>;
  environment: EnvironmentName;
  /** Dotted lower-case words, e.g. `boards` or `game.rooms`. */
  name: Scalars['String']['input'];
  /** Publishable keys read without an end-user token. Default false. */
  public?: InputMaybe<Scalars['Boolean']['input']>;
  /** Claim rules binding end users to documents. Default none. */
  rules?: InputMaybe<Array<DocumentRuleInput>>;
};

export type CreateWebhookEndpointInput = {
  applicationId: Scalars['ID']['input'];
  description?: InputMaybe<Scalars['String']['input']>;
  environment: EnvironmentName;
  /** Only events matching it: `{ "data.status": { "in": ["PAID"] }, "subject": "o-1" }` (see docs/protocol.md). */
  filter?: InputMaybe<Scalars['JSON']['input']>;
  /** FIFO per subject. Default false. */
  ordered?: InputMaybe<Scalars['Boolean']['input']>;
  /** Topic names or patterns: `order.updated`, `order.*`, `order.**`, `**`. */
  topics: Array<Scalars['String']['input']>;
  /** https (http allowed outside PROD); private and loopback addresses are refused unless REALTIME_WEBHOOK_ALLOW_PRIVATE=1. */
  url: Scalars['String']['input'];
};

export type DeletedDocument = {
  __typename?: 'DeletedDocument';
  collection: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** The version of the deletion; a later setDocument continues from it. */
  version: Scalars['Int']['output'];
};

/** A JSON document of a collection (sync). */
export type Document = {
  __typename?: 'Document';
  collection: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** The document: a JSON object. */
  state: Scalars['JSON']['output'];
  updatedAt: Scalars['DateTime']['output'];
  /** Rises by one with every write. Pass it as ifVersion to write only if nobody wrote since. */
  version: Scalars['Int']['output'];
};

/** One step of a document, in version order without gaps or duplicates. When `patch` is null, replace your copy with `state` (null: the document does not exist); otherwise apply `patch` to the previous version. */
export type DocumentChange = {
  __typename?: 'DocumentChange';
  collection: Scalars['String']['output'];
  exists: Scalars['Boolean']['output'];
  id: Scalars['ID']['output'];
  op: DocumentChangeOp;
  patch?: Maybe<Array<Scalars['JSON']['output']>>;
  state?: Maybe<Scalars['JSON']['output']>;
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The version after this change (0: never written). */
  version: Scalars['Int']['output'];
};

export enum DocumentChangeOp {
  /** The document was deleted: `exists` is false. */
  Delete = 'DELETE',
  /** JSON Patch operations (RFC 6902) that turn the previous version into this one. */
  Patch = 'PATCH',
  /** The state was replaced (setDocument): `state` holds it. */
  Set = 'SET',
  /** The whole state: first message, a client too far behind for patches, or a reload from storage. */
  Snapshot = 'SNAPSHOT'
}

/** A collection of JSON documents (sync) in one application environment, with who may read and write them. */
export type DocumentCollection = {
  __typename?: 'DocumentCollection';
  /** Publishable keys with an end-user token whose `documents` claim grants the collection may write. */
  clientWrites: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTime']['output'];
  environment: EnvironmentName;
  name: Scalars['String']['output'];
  /** Publishable keys read it without an end-user token (unless it has rules). */
  public: Scalars['Boolean']['output'];
  rules: Array<DocumentRule>;
};

/** Binds end users (publishable keys, with a token) to the documents whose id matches the value of a token claim. Every rule of a collection must hold. */
export type DocumentRule = {
  __typename?: 'DocumentRule';
  claim: Scalars['String']['output'];
  match: DocumentRuleMatch;
};

export type DocumentRuleInput = {
  /** A token claim, e.g. `sub`. */
  claim: Scalars['String']['input'];
  /** Default EQUALS. */
  match?: InputMaybe<DocumentRuleMatch>;
};

export enum DocumentRuleMatch {
  /** The document id equals the claim’s value. */
  Equals = 'EQUALS',
  /** The document id starts with the claim’s value and a colon (`<value>:…`). */
  Prefix = 'PREFIX'
}

export type Environment = {
  __typename?: 'Environment';
  name: EnvironmentName;
  /** The topics registered in this environment. */
  topics: Array<Topic>;
};

/** Every application has these three environments; keys, topics and events belong to one. */
export enum EnvironmentName {
  Dev = 'DEV',
  Prod = 'PROD',
  Staging = 'STAGING'
}

/** An event of any topic, its data untyped. Typed per-topic fields return `<Topic>Event` instead. */
export type Event = EventEnvelope & {
  __typename?: 'Event';
  applicationId: Scalars['ID']['output'];
  /** Position in the topic’s history. */
  cursor: Scalars['String']['output'];
  data: Scalars['JSON']['output'];
  environment: EnvironmentName;
  /** UUIDv7: time-sortable, unique; the idempotency key everywhere. */
  id: Scalars['ID']['output'];
  /** Id of the original event when this is a replay. */
  replayOf?: Maybe<Scalars['ID']['output']>;
  schemaVersion: Scalars['Int']['output'];
  source: Scalars['String']['output'];
  /** The producer’s ordering key. */
  subject?: Maybe<Scalars['String']['output']>;
  time: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
  traceparent?: Maybe<Scalars['String']['output']>;
};

/** Fields every event carries, whatever its topic. */
export type EventEnvelope = {
  applicationId: Scalars['ID']['output'];
  /** Position in the topic’s history. */
  cursor: Scalars['String']['output'];
  environment: EnvironmentName;
  /** UUIDv7: time-sortable, unique; the idempotency key everywhere. */
  id: Scalars['ID']['output'];
  /** Id of the original event when this is a replay. */
  replayOf?: Maybe<Scalars['ID']['output']>;
  schemaVersion: Scalars['Int']['output'];
  source: Scalars['String']['output'];
  /** The producer’s ordering key. */
  subject?: Maybe<Scalars['String']['output']>;
  time: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
  traceparent?: Maybe<Scalars['String']['output']>;
};

export type FloatFilter = {
  eq?: InputMaybe<Scalars['Float']['input']>;
  gt?: InputMaybe<Scalars['Float']['input']>;
  gte?: InputMaybe<Scalars['Float']['input']>;
  in?: InputMaybe<Array<Scalars['Float']['input']>>;
  lt?: InputMaybe<Scalars['Float']['input']>;
  lte?: InputMaybe<Scalars['Float']['input']>;
  ne?: InputMaybe<Scalars['Float']['input']>;
};

export type IntFilter = {
  eq?: InputMaybe<Scalars['Int']['input']>;
  gt?: InputMaybe<Scalars['Int']['input']>;
  gte?: InputMaybe<Scalars['Int']['input']>;
  in?: InputMaybe<Array<Scalars['Int']['input']>>;
  lt?: InputMaybe<Scalars['Int']['input']>;
  lte?: InputMaybe<Scalars['Int']['input']>;
  ne?: InputMaybe<Scalars['Int']['input']>;
};

export type JwtSecretPayload = {
  __typename?: 'JwtSecretPayload';
  /** Sign end-user tokens (HS256) with it. Shown once; stored encrypted. */
  secret: Scalars['String']['output'];
};

/** Changes to the control plane, and publishing. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Sends an ephemeral message (≤ 16 KiB JSON) to the `broadcasts` subscribers of a topic that allows client messages. Only over the WebSocket connection, rate limited per connection. */
  broadcast: Scalars['Boolean']['output'];
  createApiKey: CreateApiKeyPayload;
  /** Creates an application with the environments DEV, STAGING and PROD. Console users only. */
  createApplication: Application;
  /** Captures a database: checks it (wal_level, REPLICATION, tables, outbox table), registers each table’s topic with a schema generated from its columns, creates the publication and replication slot, and stores the connection string encrypted. A worker then snapshots (unless snapshot: false) and streams. Fails with SOURCE_NOT_READY, leaving nothing behind, when the database is not ready. */
  createCdcSource: CdcSource;
  /** Creates a document collection. Idempotent for identical settings; other settings for an existing name are a CONFLICT (use setCollectionAccess). */
  createCollection: DocumentCollection;
  /** Creates an endpoint; events published from now on that match its topics and filter are sent to it. */
  createWebhookEndpoint: WebhookSecretPayload;
  /** Stops the source and drops its replication slot and publication in the database, then forgets it. When the database is unreachable this fails with SOURCE_NOT_READY and changes nothing, unless force: true (the slot then stays behind: drop it with pg_drop_replication_slot). */
  deleteCdcSource: Scalars['ID']['output'];
  /** Deletes an existing document. Its version keeps rising: a later setDocument creates it again at the next version. */
  deleteDocument: DeletedDocument;
  /** Deletes an endpoint with its deliveries and attempts. */
  deleteWebhookEndpoint: Scalars['Boolean']['output'];
  /** Stops sending to an endpoint; queued deliveries are dead-lettered when their turn comes. */
  disableWebhookEndpoint: WebhookEndpoint;
  /** Sends to an endpoint again, from events published now on (replay sends earlier ones). */
  enableWebhookEndpoint: WebhookEndpoint;
  /** Applies JSON Patch (RFC 6902) operations — add, remove, replace, move, copy, test — all or none. A failing operation (missing path, failed test) is BAD_USER_INPUT naming its index and path, and nothing is written. */
  patchDocument: Document;
  /** Stops reading the source within one poll. The slot keeps WAL while paused: watch lag.bytes. */
  pauseCdcSource: CdcSource;
  /** Publishes an event with a secret key (Authorization: Bearer sk_…); the application and environment come from the key. Answers only after the event is stored in history and published; on error nothing is. */
  publish: PublishPayload;
  /** Sends a delivery again at once (a dead letter, or any other), with a fresh retry schedule and the same webhook-id. */
  redeliver: WebhookDelivery;
  /** Adds the next schema version of a topic if it satisfies the topic’s compatibility mode; otherwise SCHEMA_INCOMPATIBLE with extensions.breakingChanges. Every server instance serves the new typed fields within a second. */
  registerSchemaVersion: RegisterSchemaVersionPayload;
  /** Registers a topic and its schema (version 1). Idempotent for an identical schema; another schema for an existing name is a CONFLICT (add versions with registerSchemaVersion). */
  registerTopic: Topic;
  /** Re-sends to one endpoint every event of its topics and filter stored in history between since and until (inclusive). Events older than the topics’ retention are gone. */
  replayWebhookEndpoint: WebhookReplayPayload;
  /** Resumes a paused source from its slot’s confirmed position: no change is lost while paused (unless the slot was lost meanwhile). */
  resumeCdcSource: CdcSource;
  /** Revokes a key at once on every instance. Idempotent. */
  revokeApiKey: ApiKey;
  /** Creates or replaces the HS256 secret that verifies end-user tokens of one environment. Tokens signed with the old secret stop working. */
  rotateJwtSecret: JwtSecretPayload;
  /** Replaces the signing secret. Both signatures are sent for REALTIME_WEBHOOK_SECRET_OVERLAP (24 h by default) so receivers can switch. */
  rotateWebhookSecret: WebhookSecretPayload;
  /** Sends a signed `realtime.webhook.test` event to an endpoint, to check its URL and signature verification. */
  sendTestWebhook: WebhookDelivery;
  /** Changes who may read and write a collection (omitted fields are kept). Every instance applies it within 5 s. */
  setCollectionAccess: DocumentCollection;
  /** Replaces a document’s state with a JSON object (creating the document when absent). Acknowledged only once stored durably. */
  setDocument: Document;
  /** Sets (or clears with null) the JWKS URL whose keys verify RS256 and EdDSA end-user tokens of one environment. */
  setJwksUrl: Scalars['Boolean']['output'];
  /** Makes a topic PUBLIC or PROTECTED and sets the claim rules that bind end users’ deliveries (omitted: kept). */
  setTopicAccess: Topic;
  setTopicCompatibility: Topic;
  setTopicRetention: Topic;
  /** Checks the credentials and sets an httpOnly session cookie (`rt_session`). */
  signIn: User;
  /** Ends the current session (server-side) and clears its cookie. True when a session ended. */
  signOut: Scalars['Boolean']['output'];
  /** Publishes every captured row as op `read`, consistent with the stream: changes committed before the snapshot come before its rows, later ones after. */
  snapshotCdcSource: CdcSource;
  /** Changes the given fields of an endpoint; omitted ones are kept. */
  updateWebhookEndpoint: WebhookEndpoint;
};


/** Changes to the control plane, and publishing. */
export type MutationBroadcastArgs = {
  data: Scalars['JSON']['input'];
  topic: Scalars['String']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


/** Changes to the control plane, and publishing. */
export type MutationCreateApplicationArgs = {
  input: CreateApplicationInput;
};


/** Changes to the control plane, and publishing. */
export type MutationCreateCdcSourceArgs = {
  input: CreateCdcSourceInput;
};


/** Changes to the control plane, and publishing. */
export type MutationCreateCollectionArgs = {
  input: CreateCollectionInput;
};


/** Changes to the control plane, and publishing. */
export type MutationCreateWebhookEndpointArgs = {
  input: CreateWebhookEndpointInput;
};


/** Changes to the control plane, and publishing. */
export type MutationDeleteCdcSourceArgs = {
  force?: InputMaybe<Scalars['Boolean']['input']>;
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationDeleteDocumentArgs = {
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  id: Scalars['ID']['input'];
  ifVersion?: InputMaybe<Scalars['Int']['input']>;
};


/** Changes to the control plane, and publishing. */
export type MutationDeleteWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationDisableWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationEnableWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationPatchDocumentArgs = {
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  id: Scalars['ID']['input'];
  ifVersion?: InputMaybe<Scalars['Int']['input']>;
  patch: Array<Scalars['JSON']['input']>;
};


/** Changes to the control plane, and publishing. */
export type MutationPauseCdcSourceArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationPublishArgs = {
  input: PublishInput;
};


/** Changes to the control plane, and publishing. */
export type MutationRedeliverArgs = {
  deliveryId: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationRegisterSchemaVersionArgs = {
  input: TopicSchemaInput;
};


/** Changes to the control plane, and publishing. */
export type MutationRegisterTopicArgs = {
  input: RegisterTopicInput;
};


/** Changes to the control plane, and publishing. */
export type MutationReplayWebhookEndpointArgs = {
  endpointId: Scalars['ID']['input'];
  since: Scalars['DateTime']['input'];
  until?: InputMaybe<Scalars['DateTime']['input']>;
};


/** Changes to the control plane, and publishing. */
export type MutationResumeCdcSourceArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationRevokeApiKeyArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationRotateJwtSecretArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
};


/** Changes to the control plane, and publishing. */
export type MutationRotateWebhookSecretArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationSendTestWebhookArgs = {
  endpointId: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationSetCollectionAccessArgs = {
  input: SetCollectionAccessInput;
};


/** Changes to the control plane, and publishing. */
export type MutationSetDocumentArgs = {
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  id: Scalars['ID']['input'];
  ifVersion?: InputMaybe<Scalars['Int']['input']>;
  state: Scalars['JSON']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationSetJwksUrlArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  jwksUrl?: InputMaybe<Scalars['String']['input']>;
};


/** Changes to the control plane, and publishing. */
export type MutationSetTopicAccessArgs = {
  input: SetTopicAccessInput;
};


/** Changes to the control plane, and publishing. */
export type MutationSetTopicCompatibilityArgs = {
  input: SetTopicCompatibilityInput;
};


/** Changes to the control plane, and publishing. */
export type MutationSetTopicRetentionArgs = {
  input: SetTopicRetentionInput;
};


/** Changes to the control plane, and publishing. */
export type MutationSignInArgs = {
  email: Scalars['String']['input'];
  password: Scalars['String']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationSnapshotCdcSourceArgs = {
  id: Scalars['ID']['input'];
};


/** Changes to the control plane, and publishing. */
export type MutationUpdateWebhookEndpointArgs = {
  input: UpdateWebhookEndpointInput;
};

export type OrderUpdated = {
  __typename?: 'OrderUpdated';
  customer?: Maybe<OrderUpdatedCustomer>;
  /** Added in version 2. */
  note?: Maybe<Scalars['String']['output']>;
  orderId: Scalars['String']['output'];
  paidAt?: Maybe<Scalars['DateTime']['output']>;
  status: OrderUpdatedStatus;
  total?: Maybe<Scalars['Float']['output']>;
};

export type OrderUpdatedCustomer = {
  __typename?: 'OrderUpdatedCustomer';
  id: Scalars['String']['output'];
  name?: Maybe<Scalars['String']['output']>;
};

export type OrderUpdatedCustomerWhere = {
  /** Every condition holds. */
  and?: InputMaybe<Array<OrderUpdatedCustomerWhere>>;
  id?: InputMaybe<StringFilter>;
  name?: InputMaybe<StringFilter>;
  /** At least one condition holds. */
  or?: InputMaybe<Array<OrderUpdatedCustomerWhere>>;
};

/** An event of topic `order.updated` (schema version 2). */
export type OrderUpdatedEvent = EventEnvelope & {
  __typename?: 'OrderUpdatedEvent';
  applicationId: Scalars['ID']['output'];
  /** Position in the topic’s history. */
  cursor: Scalars['String']['output'];
  data: OrderUpdated;
  environment: EnvironmentName;
  /** UUIDv7: time-sortable, unique; the idempotency key everywhere. */
  id: Scalars['ID']['output'];
  /** Id of the original event when this is a replay. */
  replayOf?: Maybe<Scalars['ID']['output']>;
  schemaVersion: Scalars['Int']['output'];
  source: Scalars['String']['output'];
  /** The producer’s ordering key. */
  subject?: Maybe<Scalars['String']['output']>;
  time: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
  traceparent?: Maybe<Scalars['String']['output']>;
};

export enum OrderUpdatedStatus {
  Cancelled = 'CANCELLED',
  New = 'NEW',
  Paid = 'PAID',
  Shipped = 'SHIPPED'
}

export type OrderUpdatedStatusFilter = {
  eq?: InputMaybe<OrderUpdatedStatus>;
  in?: InputMaybe<Array<OrderUpdatedStatus>>;
  ne?: InputMaybe<OrderUpdatedStatus>;
};

/** Only events whose data match every given condition are delivered (evaluated on the server). */
export type OrderUpdatedWhere = {
  /** Every condition holds. */
  and?: InputMaybe<Array<OrderUpdatedWhere>>;
  customer?: InputMaybe<OrderUpdatedCustomerWhere>;
  note?: InputMaybe<StringFilter>;
  /** At least one condition holds. */
  or?: InputMaybe<Array<OrderUpdatedWhere>>;
  orderId?: InputMaybe<StringFilter>;
  paidAt?: InputMaybe<StringFilter>;
  status?: InputMaybe<OrderUpdatedStatusFilter>;
  /** The event’s subject. */
  subject?: InputMaybe<StringFilter>;
  total?: InputMaybe<FloatFilter>;
};

export enum OutboxMode {
  /** Rows are polled without logical replication and deleted once stored in history. */
  Poll = 'POLL',
  /** Rows are read from the replication stream (insert-only; needs wal_level=logical). Rows are not deleted. */
  Stream = 'STREAM'
}

/** SNAPSHOT first, then JOIN and LEAVE changes. A change may repeat what the snapshot already showed: apply them idempotently. */
export type PresenceEvent = {
  __typename?: 'PresenceEvent';
  /** All members (SNAPSHOT) or the one that changed. */
  members: Array<PresenceMember>;
  type: PresenceEventType;
};

export enum PresenceEventType {
  /** A member’s first connection arrived. */
  Join = 'JOIN',
  /** A member’s last connection left, or stopped sending heartbeats (its server died). */
  Leave = 'LEAVE',
  /** First message: everyone present now. */
  Snapshot = 'SNAPSHOT'
}

/** A member present on a topic: an end user, by the `sub` of their token, with their `presence` claim as data. */
export type PresenceMember = {
  __typename?: 'PresenceMember';
  data?: Maybe<Scalars['JSON']['output']>;
  id: Scalars['String']['output'];
};

export type PublishInput = {
  /** Validated against the topic’s schema. */
  data: Scalars['JSON']['input'];
  /** Your key for this publish (per topic): a repeat within 5 minutes returns the original event and publishes nothing, so retries after a lost response are safe. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Validate against this schema version instead of the latest (a pinned producer). */
  schemaVersion?: InputMaybe<Scalars['Int']['input']>;
  /** Ordering key, e.g. an order id. */
  subject?: InputMaybe<Scalars['String']['input']>;
  topic: Scalars['String']['input'];
  /** W3C trace context to carry on the event. */
  traceparent?: InputMaybe<Scalars['String']['input']>;
};

export type PublishPayload = {
  __typename?: 'PublishPayload';
  event: Event;
};

/** Reads of the control plane. */
export type Query = {
  __typename?: 'Query';
  application?: Maybe<Application>;
  applications: Array<Application>;
  cdcSource?: Maybe<CdcSource>;
  /** The CDC sources of one application environment, by name. */
  cdcSources: Array<CdcSource>;
  /** Checks a candidate schema against a topic’s mode and versions without registering it (for CI pipelines). */
  checkCompatibility: CompatibilityResult;
  /** The document collections of one application environment, by name. */
  collections: Array<DocumentCollection>;
  /** Dead-lettered deliveries of one endpoint, newest first. Send one again with redeliver. */
  deadLetters: WebhookDeliveryConnection;
  /** One document, or null when it does not exist (never written, or deleted). */
  document?: Maybe<Document>;
  /** Existing documents of a collection, ordered by id, a page at a time (`after`: the last id of the previous page). For end users, only documents their claims allow. */
  documents: Array<Document>;
  /** The signed-in user, or null without a session. */
  me?: Maybe<User>;
  /** The differences between two schema versions of a topic. */
  schemaDiff: SchemaDiff;
  schemaVersions: Array<SchemaVersion>;
  topic?: Maybe<Topic>;
  /** The topics of one application environment, by name. */
  topics: Array<Topic>;
  /** Deliveries of one application environment, newest first; narrow by endpoint, event id or status. Pages of `first` (1–100, default 20) after `after` (pageInfo.endCursor). */
  webhookDeliveries: WebhookDeliveryConnection;
  webhookDelivery: WebhookDelivery;
  webhookEndpoint: WebhookEndpoint;
  /** The webhook endpoints of one application environment. */
  webhookEndpoints: Array<WebhookEndpoint>;
};


/** Reads of the control plane. */
export type QueryApplicationArgs = {
  id: Scalars['ID']['input'];
};


/** Reads of the control plane. */
export type QueryCdcSourceArgs = {
  id: Scalars['ID']['input'];
};


/** Reads of the control plane. */
export type QueryCdcSourcesArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
};


/** Reads of the control plane. */
export type QueryCheckCompatibilityArgs = {
  input: TopicSchemaInput;
};


/** Reads of the control plane. */
export type QueryCollectionsArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
};


/** Reads of the control plane. */
export type QueryDeadLettersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  endpointId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads of the control plane. */
export type QueryDocumentArgs = {
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  id: Scalars['ID']['input'];
};


/** Reads of the control plane. */
export type QueryDocumentsArgs = {
  after?: InputMaybe<Scalars['ID']['input']>;
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads of the control plane. */
export type QuerySchemaDiffArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  from: Scalars['Int']['input'];
  to: Scalars['Int']['input'];
  topic: Scalars['String']['input'];
};


/** Reads of the control plane. */
export type QuerySchemaVersionsArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  topic: Scalars['String']['input'];
};


/** Reads of the control plane. */
export type QueryTopicArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  name: Scalars['String']['input'];
};


/** Reads of the control plane. */
export type QueryTopicsArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
};


/** Reads of the control plane. */
export type QueryWebhookDeliveriesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  applicationId: Scalars['ID']['input'];
  endpointId?: InputMaybe<Scalars['ID']['input']>;
  environment: EnvironmentName;
  eventId?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<WebhookDeliveryStatus>;
};


/** Reads of the control plane. */
export type QueryWebhookDeliveryArgs = {
  id: Scalars['ID']['input'];
};


/** Reads of the control plane. */
export type QueryWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


/** Reads of the control plane. */
export type QueryWebhookEndpointsArgs = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
};

export type RegisterSchemaVersionPayload = {
  __typename?: 'RegisterSchemaVersionPayload';
  /** False when the schema equals the latest version (nothing registered). */
  created: Scalars['Boolean']['output'];
  topic: Topic;
  version: Scalars['Int']['output'];
};

export type RegisterTopicInput = {
  /** Default PUBLIC. */
  access?: InputMaybe<TopicAccess>;
  applicationId: Scalars['ID']['input'];
  claimFilters?: InputMaybe<Array<ClaimFilterInput>>;
  /** Allow clients to `broadcast` ephemeral messages. Default false. */
  clientMessages?: InputMaybe<Scalars['Boolean']['input']>;
  /** Default BACKWARD. */
  compatibility?: InputMaybe<CompatibilityMode>;
  description?: InputMaybe<Scalars['String']['input']>;
  environment: EnvironmentName;
  /** Dotted lower-case words, e.g. `order.updated`. */
  name: Scalars['String']['input'];
  retention?: InputMaybe<RetentionInput>;
  /** A JSON Schema (draft 2020-12) whose root is an object. */
  schema: Scalars['JSON']['input'];
};

/** How much of a topic’s history is kept for resume and replay. */
export type Retention = {
  __typename?: 'Retention';
  maxAgeSeconds: Scalars['Int']['output'];
  maxEvents: Scalars['Int']['output'];
};

export type RetentionInput = {
  /** Seconds kept (1–2,592,000). Default 86,400 (24 h). */
  maxAgeSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** Events kept (1–1,000,000). Default 10,000. */
  maxEvents?: InputMaybe<Scalars['Int']['input']>;
};

export type SchemaChange = {
  __typename?: 'SchemaChange';
  message: Scalars['String']['output'];
  path: Scalars['String']['output'];
  rule: Scalars['String']['output'];
};

/** What changed between two versions, and whether data flows between them in each direction. */
export type SchemaDiff = {
  __typename?: 'SchemaDiff';
  backwardChanges: Array<SchemaChange>;
  /** Consumers on `to` can read data written with `from`. */
  backwardCompatible: Scalars['Boolean']['output'];
  changes: Array<SchemaDiffEntry>;
  forwardChanges: Array<SchemaChange>;
  /** Consumers on `from` can read data written with `to`. */
  forwardCompatible: Scalars['Boolean']['output'];
  from: Scalars['Int']['output'];
  to: Scalars['Int']['output'];
};

export type SchemaDiffEntry = {
  __typename?: 'SchemaDiffEntry';
  after?: Maybe<Scalars['JSON']['output']>;
  before?: Maybe<Scalars['JSON']['output']>;
  /** ADDED, REMOVED or CHANGED. */
  kind: Scalars['String']['output'];
  /** JSON Pointer into the schema document. */
  path: Scalars['String']['output'];
};

export type SchemaVersion = {
  __typename?: 'SchemaVersion';
  createdAt: Scalars['DateTime']['output'];
  schema: Scalars['JSON']['output'];
  version: Scalars['Int']['output'];
};

export type SessionStatus = {
  __typename?: 'SessionStatus';
  online: Scalars['Boolean']['output'];
  sessionId: Scalars['String']['output'];
};

/** An event of topic `session.status` (schema version 1). */
export type SessionStatusEvent = EventEnvelope & {
  __typename?: 'SessionStatusEvent';
  applicationId: Scalars['ID']['output'];
  /** Position in the topic’s history. */
  cursor: Scalars['String']['output'];
  data: SessionStatus;
  environment: EnvironmentName;
  /** UUIDv7: time-sortable, unique; the idempotency key everywhere. */
  id: Scalars['ID']['output'];
  /** Id of the original event when this is a replay. */
  replayOf?: Maybe<Scalars['ID']['output']>;
  schemaVersion: Scalars['Int']['output'];
  source: Scalars['String']['output'];
  /** The producer’s ordering key. */
  subject?: Maybe<Scalars['String']['output']>;
  time: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
  traceparent?: Maybe<Scalars['String']['output']>;
};

/** Only events whose data match every given condition are delivered (evaluated on the server). */
export type SessionStatusWhere = {
  /** Every condition holds. */
  and?: InputMaybe<Array<SessionStatusWhere>>;
  online?: InputMaybe<BooleanFilter>;
  /** At least one condition holds. */
  or?: InputMaybe<Array<SessionStatusWhere>>;
  sessionId?: InputMaybe<StringFilter>;
  /** The event’s subject. */
  subject?: InputMaybe<StringFilter>;
};

export type SetCollectionAccessInput = {
  applicationId: Scalars['ID']['input'];
  /** End users (publishable key with a granting token) may write. Default false. */
  clientWrites?: InputMaybe<Scalars['Boolean']['input']>;
  environment: EnvironmentName;
  name: Scalars['String']['input'];
  /** Publishable keys read without an end-user token. Default false. */
  public?: InputMaybe<Scalars['Boolean']['input']>;
  rules?: InputMaybe<Array<DocumentRuleInput>>;
};

export type SetTopicAccessInput = {
  access: TopicAccess;
  applicationId: Scalars['ID']['input'];
  claimFilters?: InputMaybe<Array<ClaimFilterInput>>;
  clientMessages?: InputMaybe<Scalars['Boolean']['input']>;
  environment: EnvironmentName;
  topic: Scalars['String']['input'];
};

export type SetTopicCompatibilityInput = {
  applicationId: Scalars['ID']['input'];
  compatibility: CompatibilityMode;
  environment: EnvironmentName;
  topic: Scalars['String']['input'];
};

export type SetTopicRetentionInput = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  retention: RetentionInput;
  topic: Scalars['String']['input'];
};

export type StringFilter = {
  eq?: InputMaybe<Scalars['String']['input']>;
  in?: InputMaybe<Array<Scalars['String']['input']>>;
  ne?: InputMaybe<Scalars['String']['input']>;
};

/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type Subscription = {
  __typename?: 'Subscription';
  /** Client messages sent with `broadcast` on a topic that allows them. */
  broadcasts: Broadcast;
  /** A document’s changes, live. First a SNAPSHOT (without sinceVersion); with sinceVersion, the patches after it when the server still keeps them (REALTIME_DOCUMENT_PATCH_WINDOW), else a SNAPSHOT. Then every change in version order, without gaps or duplicates. */
  document: DocumentChange;
  /** Events of one or more topics of the key’s application and environment, data untyped. Needs an API key (connectionParams.apiKey). */
  events: Event;
  /** An order changed state. */
  orderUpdated: OrderUpdatedEvent;
  /** Who is on a topic. A connection with an end-user token joins as its `sub` (data: its `presence` claim) for as long as this subscription lasts; others only watch. Entries expire without heartbeats, so members of a crashed server leave within about 40 s. */
  presence: PresenceEvent;
  /** Events of topic `session.status`. */
  sessionStatus: SessionStatusEvent;
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionBroadcastsArgs = {
  topic: Scalars['String']['input'];
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionDocumentArgs = {
  applicationId?: InputMaybe<Scalars['ID']['input']>;
  collection: Scalars['String']['input'];
  environment?: InputMaybe<EnvironmentName>;
  id: Scalars['ID']['input'];
  sinceVersion?: InputMaybe<Scalars['Int']['input']>;
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  topics: Array<Scalars['String']['input']>;
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionOrderUpdatedArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  where?: InputMaybe<OrderUpdatedWhere>;
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionPresenceArgs = {
  topic: Scalars['String']['input'];
};


/** Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment. */
export type SubscriptionSessionStatusArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  where?: InputMaybe<SessionStatusWhere>;
};

/** A domain topic: a name, a JSON Schema for its data, and a typed Subscription field. */
export type Topic = {
  __typename?: 'Topic';
  access: TopicAccess;
  claimFilters: Array<ClaimFilter>;
  /** Whether clients may `broadcast` on it. */
  clientMessages: Scalars['Boolean']['output'];
  compatibility: CompatibilityMode;
  createdAt: Scalars['DateTime']['output'];
  description?: Maybe<Scalars['String']['output']>;
  environment: EnvironmentName;
  /** The typed Subscription field: `order.updated` → `orderUpdated`. */
  fieldName: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  retention: Retention;
  /** The latest version’s JSON Schema. */
  schema: Scalars['JSON']['output'];
  /** The latest version. */
  schemaVersion: Scalars['Int']['output'];
  /** Every schema version, oldest first. */
  versions: Array<SchemaVersion>;
};

export enum TopicAccess {
  /** Publishable keys also need an end-user token (connectionParams.token) whose `topics` claim grants the topic. */
  Protected = 'PROTECTED',
  /** Any key of the environment subscribes. */
  Public = 'PUBLIC'
}

export type TopicSchemaInput = {
  applicationId: Scalars['ID']['input'];
  environment: EnvironmentName;
  schema: Scalars['JSON']['input'];
  topic: Scalars['String']['input'];
};

export type UpdateWebhookEndpointInput = {
  description?: InputMaybe<Scalars['String']['input']>;
  /** null clears it; omitted keeps it. */
  filter?: InputMaybe<Scalars['JSON']['input']>;
  id: Scalars['ID']['input'];
  ordered?: InputMaybe<Scalars['Boolean']['input']>;
  topics?: InputMaybe<Array<Scalars['String']['input']>>;
  url?: InputMaybe<Scalars['String']['input']>;
};

/** A person who signs in to the console. */
export type User = {
  __typename?: 'User';
  createdAt: Scalars['DateTime']['output'];
  email: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  role: UserRole;
};

export enum UserRole {
  Admin = 'ADMIN',
  Developer = 'DEVELOPER',
  Owner = 'OWNER',
  Viewer = 'VIEWER'
}

export type WebhookAttempt = {
  __typename?: 'WebhookAttempt';
  attemptedAt: Scalars['DateTime']['output'];
  error?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  latencyMs: Scalars['Int']['output'];
  /** The first 4 KiB of the response body at most. */
  responseExcerpt?: Maybe<Scalars['String']['output']>;
  /** Null when no response arrived. */
  statusCode?: Maybe<Scalars['Int']['output']>;
  succeeded: Scalars['Boolean']['output'];
};

/** One event for one endpoint, with every attempt made. */
export type WebhookDelivery = {
  __typename?: 'WebhookDelivery';
  attemptCount: Scalars['Int']['output'];
  /** Every attempt, oldest first. */
  attempts: Array<WebhookAttempt>;
  createdAt: Scalars['DateTime']['output'];
  endpointId: Scalars['ID']['output'];
  /** Also the webhook-id header of every attempt. */
  eventId: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  lastError?: Maybe<Scalars['String']['output']>;
  lastStatusCode?: Maybe<Scalars['Int']['output']>;
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** `live`, `replay:<id>` or `test:<id>`. */
  origin: Scalars['String']['output'];
  /** The body sent: the event in CloudEvents 1.0 JSON form. */
  payload: Scalars['JSON']['output'];
  status: WebhookDeliveryStatus;
  subject?: Maybe<Scalars['String']['output']>;
  topic: Scalars['String']['output'];
  updatedAt: Scalars['DateTime']['output'];
};

export type WebhookDeliveryConnection = {
  __typename?: 'WebhookDeliveryConnection';
  nodes: Array<WebhookDelivery>;
  pageInfo: WebhookPageInfo;
};

export enum WebhookDeliveryStatus {
  /** Dead-lettered: every attempt failed, or the endpoint answered 410 or was disabled. Send it again with redeliver. */
  Dead = 'DEAD',
  /** The last attempt failed; another is scheduled at nextAttemptAt. */
  Failed = 'FAILED',
  /** Queued for its first attempt (or, after redeliver, its next). A first attempt the dispatcher sends itself, without queueing, is listed once it has an outcome. */
  Pending = 'PENDING',
  /** An attempt got a 2xx response. */
  Succeeded = 'SUCCEEDED'
}

/** An HTTPS URL that receives the events of some topics, signed per Standard Webhooks, with retries and dead letters. */
export type WebhookEndpoint = {
  __typename?: 'WebhookEndpoint';
  /** Events published before this are not sent (replay sends them). */
  activeSince: Scalars['DateTime']['output'];
  applicationId: Scalars['ID']['output'];
  createdAt: Scalars['DateTime']['output'];
  description?: Maybe<Scalars['String']['output']>;
  disabledAt?: Maybe<Scalars['DateTime']['output']>;
  disabledReason?: Maybe<Scalars['String']['output']>;
  environment: EnvironmentName;
  failingSince?: Maybe<Scalars['DateTime']['output']>;
  filter?: Maybe<Scalars['JSON']['output']>;
  id: Scalars['ID']['output'];
  lastSuccessAt?: Maybe<Scalars['DateTime']['output']>;
  /** FIFO per subject: a later event of a subject waits until the earlier one succeeded or was dead-lettered. */
  ordered: Scalars['Boolean']['output'];
  status: WebhookEndpointStatus;
  /** Success rate, latency percentiles and the last error over the attempts since `since` (default: the last 24 hours). */
  summary: WebhookEndpointSummary;
  /** Topic names or patterns: `order.*` (one word), `order.**` (any depth), `**` (all). */
  topics: Array<Scalars['String']['output']>;
  updatedAt: Scalars['DateTime']['output'];
  url: Scalars['String']['output'];
};


/** An HTTPS URL that receives the events of some topics, signed per Standard Webhooks, with retries and dead letters. */
export type WebhookEndpointSummaryArgs = {
  since?: InputMaybe<Scalars['DateTime']['input']>;
};

export enum WebhookEndpointStatus {
  /** Receives nothing: disabled by a user, after a 410 Gone, or after failing without a success for REALTIME_WEBHOOK_DISABLE_AFTER. */
  Disabled = 'DISABLED',
  /** Receives new events. */
  Enabled = 'ENABLED'
}

/** Health of an endpoint over a window of attempts. */
export type WebhookEndpointSummary = {
  __typename?: 'WebhookEndpointSummary';
  attempts: Scalars['Int']['output'];
  /** Deliveries of this endpoint dead-lettered now. */
  deadLetters: Scalars['Int']['output'];
  failed: Scalars['Int']['output'];
  lastError?: Maybe<Scalars['String']['output']>;
  lastErrorAt?: Maybe<Scalars['DateTime']['output']>;
  p50LatencyMs?: Maybe<Scalars['Float']['output']>;
  p99LatencyMs?: Maybe<Scalars['Float']['output']>;
  succeeded: Scalars['Int']['output'];
  /** succeeded / attempts (0–1); null without attempts. */
  successRate?: Maybe<Scalars['Float']['output']>;
};

export type WebhookPageInfo = {
  __typename?: 'WebhookPageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type WebhookReplayPayload = {
  __typename?: 'WebhookReplayPayload';
  /** Events queued for delivery. */
  queued: Scalars['Int']['output'];
  /** Deliveries of this replay have origin `replay:<replayId>`. */
  replayId: Scalars['ID']['output'];
  /** True when the range held more than 10,000 matching events and only the first were queued. */
  truncated: Scalars['Boolean']['output'];
};

export type WebhookSecretPayload = {
  __typename?: 'WebhookSecretPayload';
  endpoint: WebhookEndpoint;
  /** `whsec_…`: verify signatures with it (Standard Webhooks). Shown once; stored encrypted. */
  secret: Scalars['String']['output'];
};

export type OrderUpdatesSubscriptionVariables = Exact<{
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type OrderUpdatesSubscription = { __typename?: 'Subscription', orderUpdated: { __typename?: 'OrderUpdatedEvent', id: string, cursor: string, time: string, subject?: string | null, data: { __typename?: 'OrderUpdated', orderId: string, status: OrderUpdatedStatus, total?: number | null, note?: string | null, customer?: { __typename?: 'OrderUpdatedCustomer', id: string, name?: string | null } | null } } };

export type PublishOrderMutationVariables = Exact<{
  data: Scalars['JSON']['input'];
  subject?: InputMaybe<Scalars['String']['input']>;
}>;


export type PublishOrderMutation = { __typename?: 'Mutation', publish: { __typename?: 'PublishPayload', event: { __typename?: 'Event', id: string, cursor: string } } };


export const OrderUpdatesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OrderUpdates"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orderUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"data"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orderId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"note"}},{"kind":"Field","name":{"kind":"Name","value":"customer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<OrderUpdatesSubscription, OrderUpdatesSubscriptionVariables>;
export const PublishOrderDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PublishOrder"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"data"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"JSON"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"subject"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"publish"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"topic"},"value":{"kind":"StringValue","value":"order.updated","block":false}},{"kind":"ObjectField","name":{"kind":"Name","value":"data"},"value":{"kind":"Variable","name":{"kind":"Name","value":"data"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"subject"},"value":{"kind":"Variable","name":{"kind":"Name","value":"subject"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}}]}}]}}]}}]} as unknown as DocumentNode<PublishOrderMutation, PublishOrderMutationVariables>;