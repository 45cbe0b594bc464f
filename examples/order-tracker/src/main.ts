/**
 * Follows order updates and prints them: every field below is typed by codegen from the exported schema,
 * so a renamed or removed field fails this file's type check in CI.
 * Run: REALTIME_URL=ws://localhost:4000/graphql REALTIME_KEY=pk_dev_… node dist/main.js
 */
import type { ResultOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { OrderUpdates } from './operations.js';
import { OrderUpdatedStatus } from './gql/graphql.js';

type OrderUpdate = ResultOf<typeof OrderUpdates>['orderUpdated'];

export function describeUpdate(update: OrderUpdate): string {
  const { orderId, status, total, customer } = update.data;
  const paid = status === OrderUpdatedStatus.Paid ? ' (paid)' : '';
  return `${orderId}: ${status}${paid}${total !== null && total !== undefined ? ` total ${total.toFixed(2)}` : ''}${customer ? ` for ${customer.name ?? customer.id}` : ''}`;
}

export function follow(url: string, apiKey: string, onUpdate: (update: OrderUpdate) => void): () => void {
  // Node 20 has no global WebSocket; browsers may omit webSocketImpl.
  const client = createClient({ url, connectionParams: { apiKey }, webSocketImpl: WebSocket });
  const stop = client.subscribe<ResultOf<typeof OrderUpdates>>(
    { query: print(OrderUpdates) },
    {
      next: (result) => result.data && onUpdate(result.data.orderUpdated),
      error: (error) => console.error(error),
      complete: () => undefined,
    },
  );
  return () => {
    stop();
    void client.dispose();
  };
}

const url = process.env.REALTIME_URL;
const key = process.env.REALTIME_KEY;
if (url && key) follow(url, key, (update) => console.log(describeUpdate(update)));
