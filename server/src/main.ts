#!/usr/bin/env node
/**
 * The `realtime` CLI. `realtime start [--role api|all]` parses configuration, builds the app, listens,
 * and drains gracefully on SIGTERM/SIGINT. Nothing else happens here.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ServiceUnreachableError, loadConfig } from '@realtime/core';
import { parseRoles, startWorkerRoles } from '@realtime/workers';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

const USAGE = `usage: realtime start [--role api|all]

Starts the platform. Configuration comes from environment variables (see README).`;

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
    Promise.all([workers.stop(), app.stop()]).then(
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

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'start') return start(values.role);
  throw new Error(`unknown command "${command}"\n${USAGE}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Expected failures (bad configuration, a service down) print one clear line, not a stack trace.
  const expected = error instanceof ConfigError || error instanceof ServiceUnreachableError;
  process.stderr.write(`realtime: ${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
