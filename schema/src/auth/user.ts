import {
  authenticateUser,
  createSession,
  deleteSession,
  findUserById,
  forbidden,
  unauthenticated,
  type User,
} from '@realtime/core';
import { builder } from '../builder.js';

export const UserRole = builder.enumType('UserRole', {
  values: ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const,
});

export const UserRef = builder.objectRef<User>('User').implement({
  description: 'A person who signs in to the console.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.field({ type: UserRole, resolve: (user) => user.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => user.createdAt }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user, or null without a session.',
    resolve: async (_root, _args, { platform, principal }) =>
      principal.kind === 'user' ? ((await findUserById(platform.pool, principal.userId)) ?? null) : null,
  }),
);

builder.mutationField('signIn', (t) =>
  t.field({
    type: UserRef,
    description: 'Checks the credentials and sets an httpOnly session cookie (`rt_session`).',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { email, password }, { platform, sessionCookie }) => {
      if (!sessionCookie) throw forbidden('sign in over HTTP; sessions cannot start on a WebSocket');
      const user = await authenticateUser(platform.pool, email, password);
      if (!user) throw unauthenticated('email or password is wrong');
      const ttl = platform.config.sessionTtlSeconds;
      sessionCookie.set(await createSession(platform.pool, user.id, ttl), ttl);
      return user;
    },
  }),
);

builder.mutationField('signOut', (t) =>
  t.boolean({
    description: 'Ends the current session (server-side) and clears its cookie. True when a session ended.',
    resolve: async (_root, _args, { platform, principal, sessionCookie }) => {
      sessionCookie?.clear();
      if (principal.kind !== 'user') return false;
      await deleteSession(platform.pool, principal.sessionHash);
      return true;
    },
  }),
);
