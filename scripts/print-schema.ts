// Prints the GraphQL schema built by Pothos to schema.graphql (committed, read by codegen.ts).
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../server/schema/index.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchema(schema) + '\n');
console.log('schema.graphql written');
