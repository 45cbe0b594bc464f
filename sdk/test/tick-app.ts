/** An application with a `tick` topic (`{ n: integer }`) and a client with its secret key, for the SDK's tests. */
import WebSocket from 'ws';
import { createRealtimeClient, type RealtimeClient } from '@smarterservices/realtime';
import { gql } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';

export interface TickApp {
  owner: { cookie: string; app: string; pk: string; sk: string };
  /** Publishes with the secret key (dispose it after the tests). */
  producer: RealtimeClient;
}

export async function tickApp(url: string, name: string): Promise<TickApp> {
  const owner = await ownerWithApplication(url, name);
  const registered = await gql(
    url,
    `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "tick", schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } }) { id } }`,
    { app: owner.app },
    { cookie: owner.cookie },
  );
  if (registered.errors) throw new Error(`registerTopic: ${JSON.stringify(registered.errors)}`);
  return { owner, producer: createRealtimeClient({ url, apiKey: owner.sk, webSocketImpl: WebSocket }) };
}
