// Runs `prisma generate` without the native schema engine.
// Prisma's CLI insists on a schema-engine binary at start-up and tries to download one,
// which cannot work offline; generation never executes it, so any existing file will do.
// `--if-stale`: only when prisma/schema.prisma changed since the last generation (a pull that adds a
// column would otherwise leave server/db/generated behind until the next `npm ci`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCHEMA = 'prisma/schema.prisma';
const STAMP = 'server/db/generated/.schema-sha256';
const schemaHash = () => createHash('sha256').update(readFileSync(SCHEMA)).digest('hex');

/** Whether server/db/generated is missing or was generated from another prisma/schema.prisma (paths from the checkout's root, the working directory). */
export const prismaClientStale = () => !(existsSync(STAMP) && readFileSync(STAMP, 'utf8') === schemaHash());

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (!existsSync('node_modules/.bin/prisma')) {
    console.log('prisma-generate: prisma CLI not installed (production install?), skipping');
    process.exit(0);
  }
  if (process.argv.includes('--if-stale') && !prismaClientStale()) process.exit(0);
  const env = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  };
  const r = spawnSync('node_modules/.bin/prisma', ['generate', '--no-hints'], { stdio: 'inherit', env });
  if (r.status === 0) writeFileSync(STAMP, schemaHash());
  process.exit(r.status ?? 1);
}
