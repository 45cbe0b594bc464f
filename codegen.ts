import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * GraphQL Code Generator: typed documents (client preset) for client apps, from an exported application
 * schema (`realtime schema export` or `GET /schema.graphql`). `npm run codegen` regenerates; `npm test`
 * fails when the committed output is stale (scripts/check-generated.mjs regenerates into a temp dir).
 */
const out = process.env.CODEGEN_OUT_DIR ?? 'examples/order-tracker/src/gql/';

const config: CodegenConfig = {
  overwrite: true,
  // ESM with NodeNext resolution: generated imports carry .js extensions.
  emitLegacyCommonJSImports: false,
  schema: 'examples/order-tracker/schema.graphql',
  documents: ['examples/order-tracker/src/**/*.ts', '!examples/order-tracker/src/gql/**'],
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { enumsAsTypes: false, useTypeImports: true, scalars: { DateTime: 'string', JSON: 'unknown' } },
    },
  },
  hooks: {},
};

export default config;
