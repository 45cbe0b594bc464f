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
];
