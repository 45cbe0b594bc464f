// The public surface of @realtime/workers.
export { WORKER_ROLES, ROLE_NAMES, parseRoles, startWorkerRoles, type WorkerRole } from './roles.js';
export { startWebhooks, webhooksRole, type WebhookRoleOptions } from './webhooks/role.js';
export { createWebhookSender, parseRetryAfter, type WebhookSender, type WebhookSenderOptions, type SendResult } from './webhooks/sender.js';
export { createDispatcher, WEBHOOK_GROUP, type Dispatcher, type DispatcherOptions } from './webhooks/dispatcher.js';
