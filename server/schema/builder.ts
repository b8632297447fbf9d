import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { hasRole } from '../auth/roles.ts';
import { AppError } from '../errors.ts';
import type PrismaTypes from '../db/generated/pothos-types.ts';
import { getDatamodel } from '../db/generated/pothos-types.ts';
import type { GraphQLContext } from './context.ts';
import { EVENTS_PAGE, PAGE } from './page-size.ts';

const CURSOR_ARG =
  "A cursor this same list gave you (an edge's `cursor`, `endCursor`, `startCursor`). In `jobs`, `templates` and `reviews` a cursor of another list or project is BAD_USER_INPUT; in a job's `attempts` or `events` a cursor of another job's list gives an empty page.";

const SCOPE_ROLE = { viewer: 'VIEWER', operator: 'OPERATOR', reviewer: 'REVIEWER', admin: 'ADMIN' } as const;

function failedScope(failure: unknown): string | undefined {
  const f = failure as { scope?: string; failures?: unknown[] };
  if (f.scope) return f.scope;
  for (const inner of f.failures ?? []) {
    const s = failedScope(inner);
    if (s) return s;
  }
  return undefined;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: { viewer: boolean; operator: boolean; reviewer: boolean; admin: boolean };
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date | string };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => {
      const role = ctx.principal?.role;
      return {
        viewer: !!role,
        operator: !!role && hasRole(role, 'OPERATOR'),
        reviewer: !!role && hasRole(role, 'REVIEWER'),
        admin: !!role && hasRole(role, 'ADMIN'),
      };
    },
    unauthorizedError: (_parent, ctx, info, result) => {
      if (!ctx.principal) return ctx.authError ?? new AppError('UNAUTHENTICATED', 'Send an API token as `Authorization: Bearer <token>`.');
      const scope = failedScope(result.failure) as keyof typeof SCOPE_ROLE | undefined;
      const needed = scope ? SCOPE_ROLE[scope] : 'a higher';
      return new AppError('FORBIDDEN', `\`${info.fieldName}\` needs the ${needed} role; this token is ${ctx.principal.role}.`);
    },
  },
  prisma: {
    client: (ctx) => ctx.services.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    defaultConnectionSize: PAGE.default,
    maxConnectionSize: PAGE.max,
    // Off: a development aid that printed "Prisma query was unused" for every jobEvents subscription;
    // it was the one NODE_ENV read outside config.ts.
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // One text for every connection (Pothos takes these options once): the sizes are the lists' own.
    firstArgOptions: {
      description: `Items per page: default ${PAGE.default}, at most ${PAGE.max} (a job's events: ${EVENTS_PAGE.default} and ${EVENTS_PAGE.max}); more is BAD_USER_INPUT naming the maximum.`,
    },
    lastArgOptions: {
      description: `Items per page, counted from the end: at most ${PAGE.max} (a job's events: ${EVENTS_PAGE.max}); more is BAD_USER_INPUT naming the maximum.`,
    },
    afterArgOptions: { description: CURSOR_ARG },
    beforeArgOptions: { description: CURSOR_ARG },
  },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
