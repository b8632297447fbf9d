// GraphQL Code Generator configuration for the web client (client/): typed operations from the
// schema the server prints (`npm run schema:print` → schema.graphql).
const config = {
  schema: 'schema.graphql',
  documents: ['client/src/**/*.{ts,tsx}'],
  ignoreNoDocuments: true,
  generates: {
    'client/src/gql/': { preset: 'client', config: { useTypeImports: true } },
  },
};

export default config;
