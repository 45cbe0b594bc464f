#!/usr/bin/env node
/**
 * The `realtime` CLI. `realtime start [--role api,webhooks,cdc,outbox|all]` parses configuration, builds the app, listens,
 * and drains gracefully on SIGTERM/SIGINT. Nothing else happens here.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import {
  ConfigError,
  ENVIRONMENTS,
  ServiceUnreachableError,
  createPlatform,
  findApplication,
  loadConfig,
  type EnvironmentName,
} from '@realtime/core';
import { printApplicationSchema } from '@realtime/schema';
import { parseRoles, startWorkerRoles } from '@realtime/workers';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

const USAGE = `usage:
  realtime start [--role <role>[,<role>…]|all]
      Starts the platform: every role by default (api, webhooks, cdc, outbox).
  realtime schema export --application <id> --environment DEV|STAGING|PROD [--out <file>]
      Prints the GraphQL SDL of one application environment (typed topic fields included), for codegen.

Configuration comes from environment variables (see README).`;

async function start(roleText: string | undefined): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const roles = parseRoles(roleText);
  const app = await buildApp({ config, logger });
  const workers = await startWorkerRoles(app.platform, roles);
  if (roles.includes('api')) await app.start();
  logger.info('started', { roles });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal });
    // Worker roles stop first (in-flight webhook attempts finish and are recorded), then the API and the
    // platform's connections they use.
    workers
      .stop()
      .then(() => app.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error: String(error) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Thrown for a CLI usage mistake: printed as one line with the usage. */
class UsageError extends Error {}

async function exportSchema(options: { application?: string | undefined; environment?: string | undefined; out?: string | undefined }): Promise<void> {
  if (!options.application) throw new UsageError('--application <id> is required');
  const environment = options.environment as EnvironmentName;
  if (!ENVIRONMENTS.includes(environment)) throw new UsageError(`--environment must be one of ${ENVIRONMENTS.join(', ')}`);
  const platform = await createPlatform({ config: loadConfig(), bootstrapOwner: false });
  try {
    if (!(await findApplication(platform.pool, options.application))) {
      throw new UsageError(`application "${options.application}" does not exist`);
    }
    const topics = await platform.registry.get({ applicationId: options.application, environment });
    const sdl = printApplicationSchema(topics.topics);
    if (options.out) writeFileSync(options.out, sdl);
    else process.stdout.write(sdl);
  } finally {
    await platform.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      application: { type: 'string' },
      environment: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'start') return start(values.role);
  if (command === 'schema' && sub === 'export') return exportSchema(values);
  throw new Error(`unknown command "${command}"\n${USAGE}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Expected failures (bad configuration, a service down) print one clear line, not a stack trace.
  const expected = error instanceof ConfigError || error instanceof ServiceUnreachableError || error instanceof UsageError;
  process.stderr.write(`realtime: ${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
