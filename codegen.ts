// GraphQL Code Generator: typed operations for the web client (client/) from the schema the server
// prints (`npm run schema:print` → schema.graphql). `npm run codegen` writes client/src/gql/.
const config = {
  schema: 'schema.graphql',
  documents: ['client/src/**/*.{ts,tsx}', '!client/src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    'client/src/gql/': {
      preset: 'client',
      // Plain result types: the app's one fragment is shared for its fields, not for masking.
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { JSON: 'unknown', DateTime: 'string' },
      },
    },
  },
};

export default config;
