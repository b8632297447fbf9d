import { createApiToken, revokeApiToken } from '../auth/tokens.ts';
import { badInput, notFound } from '../errors.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { RoleEnum } from './enums.ts';
import { isId } from './ids.ts';

const ApiToken = builder.prismaObject('ApiToken', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, to tell tokens apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the token stops authenticating and its open subscriptions end; null: it does not expire.',
    }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const CreatedApiToken = builder.objectRef<{ secret: string; tokenId: string }>('CreatedApiToken').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Shown once; only its hash is stored.' }),
    tokenId: t.exposeID('tokenId'),
  }),
});
builder.objectField(CreatedApiToken, 'token', (t) =>
  t.prismaField({
    type: ApiToken,
    resolve: (query, parent, _args, ctx) => ctx.services.db.apiToken.findUniqueOrThrow({ ...query, where: { id: parent.tokenId } }),
  }),
);

const ApiTokenInput = builder.inputType('ApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'When the token expires (in the future). Give this or `expiresInSeconds`, not both; neither: it never expires.',
    }),
    expiresInSeconds: t.int({ description: 'Expires this many seconds from now (1 to 10 years’ worth).' }),
  }),
});

const MAX_EXPIRES_IN_SECONDS = 10 * 366 * 24 * 3600;

/** The expiry asked for, from either field; null when the token does not expire. */
function expiryOf(input: { expiresAt?: Date | null; expiresInSeconds?: number | null }): Date | null {
  if (input.expiresAt != null && input.expiresInSeconds != null) {
    throw badInput('Give `expiresAt` or `expiresInSeconds`, not both.', { field: 'expiresInSeconds' });
  }
  if (input.expiresInSeconds != null) {
    if (input.expiresInSeconds < 1 || input.expiresInSeconds > MAX_EXPIRES_IN_SECONDS) {
      throw badInput(`\`expiresInSeconds\` must be between 1 and ${MAX_EXPIRES_IN_SECONDS} (10 years).`, { field: 'expiresInSeconds' });
    }
    return new Date(Date.now() + input.expiresInSeconds * 1000);
  }
  return input.expiresAt ?? null;
}

builder.queryField('apiTokens', (t) =>
  t.prismaField({
    type: [ApiToken],
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.apiToken.findMany({ ...query, where: { projectId: principalOf(ctx).projectId }, orderBy: { createdAt: 'asc' } }),
  }),
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedApiToken,
    authScopes: { admin: true },
    args: { input: t.arg({ type: ApiTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { id, secret } = await createApiToken(ctx.services.pool, {
        projectId: principalOf(ctx).projectId,
        name: input.name,
        role: input.role,
        expiresAt: expiryOf(input),
      });
      return { secret, tokenId: id };
    },
  }),
  revokeApiToken: t.boolean({
    authScopes: { admin: true },
    description:
      'Revokes a token of this project; false when it was already revoked. Its open subscriptions (WebSocket and SSE) end ' +
      'with UNAUTHENTICATED on every API process, within a second while pub/sub is up and within AUTODEV_TOKEN_RECHECK_SECONDS otherwise.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const projectId = principalOf(ctx).projectId;
      if (!isId(args.id)) throw notFound(`API token ${args.id}`);
      const exists = await ctx.services.db.apiToken.findFirst({ where: { id: args.id, projectId }, select: { id: true } });
      if (!exists) throw notFound(`API token ${args.id}`);
      const revoked = await revokeApiToken(ctx.services.pool, { projectId, tokenId: args.id });
      // After the commit: this process stops authenticating it now, every API process ends what the
      // token keeps open and forgets it (see TokenWatch and PrincipalCache).
      if (revoked) ctx.services.principals.forget(args.id);
      if (revoked) await ctx.services.events.publishTokenRevoked(args.id);
      return revoked;
    },
  }),
}));
