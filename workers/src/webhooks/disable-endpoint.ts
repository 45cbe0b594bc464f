import { publishPlatformEvent, setWebhookEndpointStatus, webhookEndpointsChanged, type Platform } from '@realtime/core';

/**
 * Disables an endpoint (410 Gone, or failing without a success for too long), tells every instance, and
 * publishes `realtime.webhook.endpoint.disabled` into its application environment, once per disabling (the
 * event id is derived from the endpoint and the moment it was disabled).
 */
export async function disableEndpoint(platform: Platform, endpointId: string, reason: string): Promise<void> {
  const result = await setWebhookEndpointStatus(platform.pool, endpointId, 'DISABLED', reason);
  if (!result?.changed) return;
  const { endpoint } = result;
  const scope = { applicationId: endpoint.applicationId, environment: endpoint.environment };
  await webhookEndpointsChanged(platform, scope);
  await publishPlatformEvent(
    { pool: platform.pool, registry: platform.registry, publisher: platform.publisher, announce: (m) => platform.announce(m) },
    scope,
    {
      topic: 'realtime.webhook.endpoint.disabled',
      subject: endpoint.id,
      data: { endpointId: endpoint.id, url: endpoint.url, reason },
      id: `webhook-endpoint-disabled-${endpoint.id}-${endpoint.disabledAt?.getTime() ?? Date.now()}`,
    },
  );
}
