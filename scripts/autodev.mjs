#!/usr/bin/env node
// The `autodev` command (package.json "bin"). AutoDev runs its TypeScript through tsx: register it
// (resolved from this package, whatever the working directory), then hand over to server/cli.ts.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli.ts');
