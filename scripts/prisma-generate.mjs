// Runs `prisma generate` without the native schema engine.
// Prisma's CLI insists on a schema-engine binary at start-up and tries to download one,
// which cannot work offline; generation never executes it, so any existing file will do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('node_modules/.bin/prisma')) {
  console.log('prisma-generate: prisma CLI not installed (production install?), skipping');
  process.exit(0);
}
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const r = spawnSync('node_modules/.bin/prisma', ['generate', '--no-hints'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
