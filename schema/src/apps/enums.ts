import { ENVIRONMENTS } from '@realtime/core';
import { builder } from '../builder.js';

export const EnvironmentNameEnum = builder.enumType('EnvironmentName', {
  description: 'Every application has these three environments; keys, topics and events belong to one.',
  values: ENVIRONMENTS,
});

export const ApiKeyKindEnum = builder.enumType('ApiKeyKind', {
  values: {
    PUBLISHABLE: { description: 'pk_…: subscribes. Safe to ship in browser and mobile apps.' },
    SECRET: { description: 'sk_…: publishes, and administers its own application and environment. Keep on servers.' },
  },
});
