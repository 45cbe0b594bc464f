// The public surface of @realtime/workers.
export { WORKER_ROLES, ROLE_NAMES, parseRoles, startWorkerRoles, type WorkerRole } from './roles.js';
