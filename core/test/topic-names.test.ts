import { describe, expect, it } from 'vitest';
import { isTopicName, topicFieldName, topicTypeName } from '@realtime/core';

describe('topic names', () => {
  it.each(['order.updated', 'session.status', 'order_line.added', 'chat', 'a1.b2.c3'])('should accept %s', (name) => {
    expect(isTopicName(name)).toBe(true);
  });

  it.each(['', 'Order.updated', 'order..updated', '.order', 'order.', 'order-updated', '1order', 'order.updated!', 'a__b', 'x'.repeat(101)])(
    'should refuse "%s"',
    (name) => {
      expect(isTopicName(name)).toBe(false);
    },
  );

  it('should name fields and types deterministically', () => {
    expect(topicFieldName('order.updated')).toBe('orderUpdated');
    expect(topicTypeName('order.updated')).toBe('OrderUpdated');
    expect(topicFieldName('order_line.item_added')).toBe('orderLineItemAdded');
    expect(topicTypeName('session.status')).toBe('SessionStatus');
  });
});
