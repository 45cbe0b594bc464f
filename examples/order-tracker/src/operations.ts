import { graphql } from './gql/index.js';

/** Live order updates, typed from the application's exported schema (`OrderUpdatedEvent`). */
export const OrderUpdates = graphql(`
  subscription OrderUpdates {
    orderUpdated {
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
