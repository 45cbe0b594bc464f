import { graphql } from './gql/index.js';

/**
 * Live order updates, typed from the application's exported schema (`OrderUpdatedEvent`). `$after` and
 * `cursor` let the client resume after a lost connection without missing an update.
 */
export const OrderUpdates = graphql(`
  subscription OrderUpdates($after: String) {
    orderUpdated(after: $after) {
      id
      cursor
      time
      subject
      data {
        orderId
        status
        total
        note
        customer {
          id
          name
        }
      }
    }
  }
`);

/** Publishing from a trusted backend (secret key). */
export const PublishOrder = graphql(`
  mutation PublishOrder($data: JSON!, $subject: String) {
    publish(input: { topic: "order.updated", data: $data, subject: $subject }) {
      event {
        id
        cursor
      }
    }
  }
`);
