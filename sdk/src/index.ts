export { createRealtimeClient, endpointsOf, expiryOf, refreshDelayMs } from './client.js';
export type { BroadcastMessage, DocumentChange, DocumentCopy, DocumentHandlers, DocumentWriter, HistoryGap, PresenceHandlers, PresenceMember, PublishInput, PublishedEvent, RealtimeClient, RealtimeClientOptions, SubscribeHandlers, SubscribeOptions } from './client.js';
export { RealtimeClientError } from './errors.js';
export { backoffDelay, isFatalClose, planResume, positionOf, type BackoffOptions, type ResumePlan } from './resume.js';
