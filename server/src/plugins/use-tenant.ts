import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RealtimeError, type Platform, type Principal } from '@realtime/core';
import { createSchemaCache, baseSchema } from '@realtime/schema';
import { bearerToken, resolvePrincipal } from '../principal.js';

/** The caller and the schema it sees; resolved once per HTTP request or once per WebSocket subscribe. */
export interface Tenant {
  principal: Principal;
  schema: GraphQLSchema;
}

export interface TenantResolver {
  /** The schema of a principal: its environment's typed schema for API keys, the base schema otherwise. */
  schemaFor(principal: Principal): Promise<GraphQLSchema>;
  /** The tenant resolved for an HTTP request by the plugin. */
  forRequest(request: Request): Tenant | undefined;
  plugin: Plugin;
}

/**
 * Resolves the caller (API key or session cookie) before anything else runs, and gives the request its
 * application environment's schema, with that environment's typed topic fields. WebSocket subscriptions
 * pass `tenant` in the initial context of `getEnveloped`, so both transports select the schema here.
 */
export function createTenantResolver(platform: Platform): TenantResolver {
  const schemaForTopics = createSchemaCache(baseSchema());
  const byRequest = new WeakMap<Request, Tenant>();
  const rejected = new WeakMap<Request, RealtimeError>();

  const schemaFor = async (principal: Principal): Promise<GraphQLSchema> => {
    if (principal.kind !== 'key') return baseSchema();
    const topics = await platform.registry.get({ applicationId: principal.applicationId, environment: principal.environment });
    return schemaForTopics(topics);
  };

  const plugin: Plugin = {
    // onRequest runs before anything else Yoga or its plugins do (graphql-sse included), once per request.
    async onRequest({ request }) {
      let principal: Principal;
      try {
        principal = await resolvePrincipal(platform, {
          apiKey: bearerToken(request.headers.get('authorization')),
          cookieHeader: request.headers.get('cookie'),
          token: request.headers.get('x-realtime-token') ?? undefined,
        });
      } catch (error) {
        // An invalid end-user token: answer like any other GraphQL error, with its code.
        if (!(error instanceof RealtimeError)) throw error;
        principal = { kind: 'anonymous' };
        rejected.set(request, error);
      }
      byRequest.set(request, { principal, schema: await schemaFor(principal) });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      const error = request ? rejected.get(request) : undefined;
      if (error) throw error;
    },
    onSubscribe({ args }) {
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      const error = request ? rejected.get(request) : undefined;
      if (error) throw error;
    },
    onEnveloped({ context, setSchema }) {
      const initial = context as { tenant?: Tenant; request?: Request } | undefined;
      const tenant = initial?.tenant ?? (initial?.request ? byRequest.get(initial.request) : undefined);
      if (tenant) setSchema(tenant.schema);
    },
  };

  return { schemaFor, forRequest: (request) => byRequest.get(request), plugin };
}
