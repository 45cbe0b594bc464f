/**
 * Follows order updates and prints them: every field below is typed by codegen from the exported schema,
 * so a renamed or removed field fails this file's type check in CI.
 * Run: REALTIME_URL=http://localhost:4000 REALTIME_KEY=pk_dev_… node dist/main.js
 */
import type { ResultOf } from '@graphql-typed-document-node/core';
import { createRealtimeClient } from '@smarterservices/realtime';
import WebSocket from 'ws';
import { OrderUpdates } from './operations.js';
import { OrderUpdatedStatus } from './gql/graphql.js';

type OrderUpdate = ResultOf<typeof OrderUpdates>['orderUpdated'];

export function describeUpdate(update: OrderUpdate): string {
  const { orderId, status, total, customer } = update.data;
  const paid = status === OrderUpdatedStatus.Paid ? ' (paid)' : '';
  return `${orderId}: ${status}${paid}${total !== null && total !== undefined ? ` total ${total.toFixed(2)}` : ''}${customer ? ` for ${customer.name ?? customer.id}` : ''}`;
}

/**
 * Calls `onUpdate` with every order update from now on (or after `after`, a cursor kept from an earlier run):
 * a dropped connection is resumed after the last update handed over, so none is missed.
 */
export function follow(url: string, apiKey: string, onUpdate: (update: OrderUpdate) => void, after?: string): () => void {
  // Node 20 has no global WebSocket; browsers may omit webSocketImpl.
  const client = createRealtimeClient({ url, apiKey, webSocketImpl: WebSocket });
  const stop = client.subscribe(OrderUpdates, after ? { after } : {}, {
    next: (data) => onUpdate(data.orderUpdated),
    gap: (gap) => console.warn(`updates may be missing: ${gap.message}`),
    error: (error) => console.error(`${error.code}: ${error.message}`),
  });
  return () => {
    stop();
    void client.dispose();
  };
}

const url = process.env.REALTIME_URL;
const key = process.env.REALTIME_KEY;
if (url && key) follow(url, key, (update) => console.log(describeUpdate(update)));
