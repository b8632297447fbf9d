// Writes schemas/types/*.ts, the TypeScript types generated from schemas/*.schema.json.
import { writeFileSync } from 'node:fs';
import { jsonSchemaTypes } from '../schemas/json-schema-types.ts';

for (const [file, text] of Object.entries(await jsonSchemaTypes())) {
  writeFileSync(new URL(`../schemas/${file}`, import.meta.url), text);
  console.log(`schemas/${file} written`);
}
