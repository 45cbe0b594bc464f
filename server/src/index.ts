// The public surface of @realtime/server.
export { buildApp, type App, type BuildAppOptions } from './app.js';
export { createLogger, type Logger } from './logger.js';
