import {
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  type GraphQLEnumType,
  isScalarType,
  type GraphQLFieldConfigMap,
  type GraphQLNamedType,
} from 'graphql';
import { topicTypeName, type EventEnvelope, type StreamItem, type Topic, type TopicSet } from '@realtime/core';
import type { GraphQLContext } from '../context.js';
import { resolveStreamItem, subscribeToTopics } from '../events/subscribe.js';
import { convertTopicSchema, createNameAllocator } from './json-schema-to-graphql.js';
import { buildWhereInput, compileWhere, requiredSubject } from './where.js';

/** Forces the lazy field thunks of an object type and the object types it reaches (enums are created then). */
function collectTypes(type: GraphQLObjectType, seen = new Set<GraphQLObjectType>()): void {
  if (seen.has(type)) return;
  seen.add(type);
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (isObjectType(named)) collectTypes(named, seen);
  }
}

function named<T>(schema: GraphQLSchema, name: string, check: (t: GraphQLNamedType | undefined) => t is T & GraphQLNamedType): T {
  const type = schema.getType(name);
  if (!check(type)) throw new Error(`base schema lacks the ${name} type`);
  return type;
}

/**
 * The schema of one application environment: the base schema plus, for each registered topic, a typed
 * Subscription field (`orderUpdated: OrderUpdatedEvent!`) whose `data` type comes from the topic's JSON Schema.
 * Names are deterministic and stable: topics are processed in registration order and their root types are
 * named first, so a nested type never takes a topic's own name; a clash gets a numeric suffix. Registering
 * a topic whose root names another topic's types already use is refused (see `topicTypeClash`), so adding
 * a topic never renames existing types.
 */
export function buildApplicationSchema(base: GraphQLSchema, topics: readonly Topic[]): GraphQLSchema {
  const config = base.toConfig();
  const subscription = base.getSubscriptionType();
  if (!subscription) throw new Error('base schema has no Subscription type');
  const envelope = named(base, 'EventEnvelope', isInterfaceType);
  const genericEvent = named(base, 'Event', isObjectType);
  const scalars = { json: named(base, 'JSON', isScalarType), dateTime: named(base, 'DateTime', isScalarType) };
  const filters = {
    string: named(base, 'StringFilter', isInputObjectType),
    int: named(base, 'IntFilter', isInputObjectType),
    float: named(base, 'FloatFilter', isInputObjectType),
    boolean: named(base, 'BooleanFilter', isInputObjectType),
  };
  const { data: _untyped, ...envelopeFields } = genericEvent.toConfig().fields;

  const allocate = createNameAllocator(config.types.map((t) => t.name));
  // Registration order: a topic added later never renames the types of an earlier one.
  const sorted = [...topics].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const roots = sorted.map((topic) => {
    const base = topicTypeName(topic.name);
    return { topic, eventName: allocate(`${base}Event`), dataName: allocate(base) };
  });

  const typedFields: GraphQLFieldConfigMap<EventEnvelope, GraphQLContext> = {};
  const newTypes: GraphQLNamedType[] = [];
  for (const { topic, eventName, dataName } of roots) {
    // The root name is already allocated; hand it back once to the converter for the root object.
    let rootHandedOut = false;
    const allocateForTopic = (wanted: string): string => {
      if (!rootHandedOut && wanted === dataName) {
        rootHandedOut = true;
        return dataName;
      }
      return allocate(wanted);
    };
    const enums = new Map<Record<string, unknown>, GraphQLEnumType>();
    const dataType = convertTopicSchema(topic.schema, dataName, allocateForTopic, scalars, (schema, type) => enums.set(schema, type));
    // The output type's fields are built lazily; building them now registers the enums the filter reuses.
    if (isObjectType(dataType)) collectTypes(dataType);
    const whereType = buildWhereInput(topic.schema, dataName, allocate, filters, (schema) => enums.get(schema));
    const eventType = new GraphQLObjectType<EventEnvelope, GraphQLContext>({
      name: eventName,
      description: `An event of topic \`${topic.name}\` (schema version ${topic.schemaVersion}).`,
      interfaces: [envelope],
      fields: () => ({
        ...envelopeFields,
        data: { type: new GraphQLNonNull(dataType), resolve: (event) => event.data },
      }),
    });
    newTypes.push(eventType);
    typedFields[topic.fieldName] = {
      type: new GraphQLNonNull(eventType),
      description: topic.description ?? `Events of topic \`${topic.name}\`.`,
      args: {
        where: { type: whereType, description: 'Deliver only matching events (evaluated on the server, before serialization).' },
        after: {
          type: GraphQLString,
          description:
            'Resume after this cursor: missed events are replayed from history, then live ones follow, with no gap or duplicate. If the history no longer reaches back that far, the first result is a HISTORY_GAP error.',
        },
      },
      subscribe: (_root, args: { after?: string | null; where?: Record<string, unknown> | null }, context: GraphQLContext) =>
        subscribeToTopics(context, [topic.name], {
          after: args.after,
          filter: args.where ? compileWhere(whereType, args.where) : undefined,
          subject: requiredSubject(args.where),
        }),
      resolve: (item) => resolveStreamItem(item as StreamItem),
    };
  }

  const subscriptionConfig = subscription.toConfig();
  const typedSubscription = new GraphQLObjectType({
    ...subscriptionConfig,
    fields: { ...subscriptionConfig.fields, ...(typedFields as typeof subscriptionConfig.fields) },
  });
  return new GraphQLSchema({
    ...config,
    subscription: typedSubscription,
    types: [...config.types.filter((t) => t !== subscription), ...newTypes],
  });
}

/**
 * Builds each environment's schema once per registry revision: keyed by the TopicSet, which the
 * registry cache replaces exactly when the registry changes. Never built per request.
 */
export function createSchemaCache(base: GraphQLSchema): (topics: TopicSet) => GraphQLSchema {
  const cache = new WeakMap<TopicSet, GraphQLSchema>();
  return (topics) => {
    let schema = cache.get(topics);
    if (!schema) {
      schema = buildApplicationSchema(base, topics.topics);
      cache.set(topics, schema);
    }
    return schema;
  };
}

/**
 * The generated type that a new topic's root types (`OrderUpdated`, `OrderUpdatedEvent`) would collide
 * with in an environment's current schema, if any. Collisions with the platform's own types are not
 * reported: those names never change, so the numeric suffix they cause is stable.
 */
export function topicTypeClash(base: GraphQLSchema, current: GraphQLSchema, topicName: string): string | undefined {
  const root = topicTypeName(topicName);
  return [root, `${root}Event`].find((name) => current.getType(name) !== undefined && base.getType(name) === undefined);
}
