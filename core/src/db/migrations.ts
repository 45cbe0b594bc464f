/**
 * Ordered, append-only control-plane migrations. Never edit one that has shipped; add the next.
 * Each runs in its own transaction under an advisory lock, so concurrent starts migrate once.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'control plane: users, sessions, applications, keys, topics',
    sql: `
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER')),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_key ON users (lower(email));

      -- Only the SHA-256 of a session id is stored; the id itself lives in the client's cookie.
      CREATE TABLE sessions (
        id_hash text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);

      CREATE TABLE applications (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- One row per (application, environment); registry_revision rises with every registry change
      -- and keys the per-environment GraphQL schema cache.
      CREATE TABLE environments (
        application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name IN ('DEV', 'STAGING', 'PROD')),
        registry_revision bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (application_id, name)
      );

      -- Only the SHA-256 of a key's secret is stored; the secret is shown once at creation.
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL,
        environment text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('PUBLISHABLE', 'SECRET')),
        name text,
        secret_hash text NOT NULL UNIQUE,
        hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        FOREIGN KEY (application_id, environment) REFERENCES environments (application_id, name) ON DELETE CASCADE
      );

      CREATE TABLE topics (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL,
        environment text NOT NULL,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (application_id, environment, name),
        FOREIGN KEY (application_id, environment) REFERENCES environments (application_id, name) ON DELETE CASCADE
      );

      CREATE TABLE topic_schema_versions (
        topic_id uuid NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
        version integer NOT NULL,
        schema jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic_id, version)
      );
    `,
  },
  {
    id: 2,
    name: 'registry: compatibility mode and history retention per topic',
    sql: `
      ALTER TABLE topics
        ADD COLUMN compatibility text NOT NULL DEFAULT 'BACKWARD'
          CHECK (compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
        ADD COLUMN retention_max_events integer NOT NULL DEFAULT 10000 CHECK (retention_max_events > 0),
        ADD COLUMN retention_max_age_seconds integer NOT NULL DEFAULT 86400 CHECK (retention_max_age_seconds > 0);
    `,
  },
  {
    id: 3,
    name: 'end-user authorization: JWT settings per environment, topic access and claim-bound filters',
    sql: `
      ALTER TABLE environments
        ADD COLUMN jwt_secret_encrypted text,
        ADD COLUMN jwks_url text;
      ALTER TABLE topics
        ADD COLUMN access text NOT NULL DEFAULT 'PUBLIC' CHECK (access IN ('PUBLIC', 'PROTECTED')),
        ADD COLUMN claim_filters jsonb NOT NULL DEFAULT '[]';
      -- Holds the development encryption key when REALTIME_SECRET_KEY is not configured.
      CREATE TABLE platform_secrets (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 4,
    name: 'topics may allow client broadcasts',
    sql: `ALTER TABLE topics ADD COLUMN client_messages boolean NOT NULL DEFAULT false;`,
  },
  {
    id: 5,
    name: 'webhooks: endpoints, deliveries and attempts',
    sql: `
      -- active_since: events before it are not sent (creation, or the last enable). The secrets are sealed
      -- with the platform's SecretBox; previous_secret signs too until previous_secret_expires_at (rotation).
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL,
        environment text NOT NULL,
        url text NOT NULL,
        description text,
        topics text[] NOT NULL,
        filter jsonb,
        ordered boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'ENABLED' CHECK (status IN ('ENABLED', 'DISABLED')),
        disabled_reason text,
        disabled_at timestamptz,
        secret_sealed text NOT NULL,
        previous_secret_sealed text,
        previous_secret_expires_at timestamptz,
        active_since timestamptz NOT NULL DEFAULT now(),
        failing_since timestamptz,
        last_success_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (application_id, environment) REFERENCES environments (application_id, name) ON DELETE CASCADE
      );
      CREATE INDEX webhook_endpoints_scope_idx ON webhook_endpoints (application_id, environment);

      -- One row per (endpoint, event, origin): origin 'live' for the dispatcher, 'replay:<id>', 'test:<id>'.
      -- generation rises with every redeliver; the BullMQ job id is '<id>.<generation>'.
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        application_id uuid NOT NULL,
        environment text NOT NULL,
        origin text NOT NULL,
        event_id text NOT NULL,
        topic text NOT NULL,
        subject text,
        event_time timestamptz NOT NULL,
        event jsonb NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'FAILED', 'SUCCEEDED', 'DEAD')),
        generation integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (endpoint_id, event_id, origin)
      );
      CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (application_id, environment, created_at DESC, id DESC);
      CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, status, created_at DESC, id DESC);
      CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (application_id, environment, event_id);
      CREATE INDEX webhook_deliveries_fifo_idx ON webhook_deliveries (endpoint_id, subject, event_time)
        WHERE status IN ('PENDING', 'FAILED');

      CREATE TABLE webhook_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        succeeded boolean NOT NULL,
        status_code integer,
        latency_ms integer NOT NULL,
        response_excerpt text,
        error text
      );
      CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
      CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, attempted_at DESC);
      CREATE INDEX webhook_attempts_time_idx ON webhook_attempts (attempted_at);
    `,
  },
  {
    id: 6,
    name: 'CDC sources: logical replication of application databases, and the outbox relay',
    sql: `
      -- One row per captured database. The connection string is sealed with the platform's secret key.
      -- status is what the worker last reported; paused and snapshot_requested are what users asked for.
      CREATE TABLE cdc_sources (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL,
        environment text NOT NULL,
        name text NOT NULL,
        connection_string_encrypted text NOT NULL,
        tables jsonb NOT NULL DEFAULT '[]',
        outbox_table text,
        outbox_mode text CHECK (outbox_mode IN ('STREAM', 'POLL')),
        status text NOT NULL DEFAULT 'STARTING' CHECK (status IN ('STARTING', 'SNAPSHOTTING', 'RUNNING', 'PAUSED', 'ERROR')),
        paused boolean NOT NULL DEFAULT false,
        -- Snapshots asked for (createCdcSource, snapshotCdcSource, a lost slot) and taken: one is due while
        -- requests > done; a request made during a running snapshot is not swallowed by its completion.
        snapshot_requests integer NOT NULL DEFAULT 0,
        snapshots_done integer NOT NULL DEFAULT 0,
        last_error text,
        last_error_at timestamptz,
        confirmed_lsn text,
        lag_bytes bigint,
        caught_up_at timestamptz,
        lag_measured_at timestamptz,
        last_snapshot_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (application_id, environment, name),
        FOREIGN KEY (application_id, environment) REFERENCES environments (application_id, name) ON DELETE CASCADE
      );
    `,
  },
  {
    id: 7,
    name: 'sync: document collections and durable documents',
    sql: `
      -- A collection holds JSON documents and the rules for reading and writing them.
      CREATE TABLE document_collections (
        application_id uuid NOT NULL,
        environment text NOT NULL,
        name text NOT NULL,
        public boolean NOT NULL DEFAULT false,
        client_writes boolean NOT NULL DEFAULT false,
        rules jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (application_id, environment, name),
        FOREIGN KEY (application_id, environment) REFERENCES environments (application_id, name) ON DELETE CASCADE
      );

      -- The durable copy of every document: the commit point of a write (Redis follows it). A deleted
      -- document keeps its row with state NULL, so its version keeps rising if it is written again.
      -- state is json (not jsonb) so the text round-trips byte for byte.
      CREATE TABLE documents (
        application_id uuid NOT NULL,
        environment text NOT NULL,
        collection text NOT NULL,
        id text NOT NULL,
        version bigint NOT NULL CHECK (version > 0),
        state json,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (application_id, environment, collection, id),
        FOREIGN KEY (application_id, environment, collection)
          REFERENCES document_collections (application_id, environment, name) ON DELETE CASCADE
      );
    `,
  },
  {
    id: 8,
    name: 'webhooks: one index fewer on deliveries',
    sql: `
      -- A delivery's id is derived from (endpoint_id, event_id, origin) (deliveryIdFor), so the primary key
      -- already refuses a second row for the same triple; the unique index on the triple was a second copy of
      -- that rule, written on every insert and again on every attempt (status changes make updates non-HOT).
      ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_event_id_origin_key;
    `,
  },
  {
    id: 9,
    name: 'webhooks: retention and endpoint health without full scans',
    sql: `
      -- Retention goes endpoint by endpoint, through the (endpoint_id, …) indexes both tables already have: the
      -- btree on attempted_at alone was written on every attempt for an hourly sweep.
      DROP INDEX webhook_attempts_time_idx;
      -- An endpoint's last failure (endpointSummary): failed attempts only, so a healthy endpoint's lookup does
      -- not walk back through every attempt of every endpoint, and successes never write this index.
      CREATE INDEX webhook_attempts_failure_idx ON webhook_attempts (endpoint_id, id DESC) WHERE NOT succeeded;
    `,
  },
];
