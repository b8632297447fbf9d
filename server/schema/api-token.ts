import { createApiToken, revokeApiToken } from '../auth/tokens.ts';
import { notFound } from '../errors.ts';
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
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedApiToken = builder.objectRef<{ secret: string; tokenId: string }>('CreatedApiToken').implement({
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
  }),
});

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
      const { id, secret } = await createApiToken(ctx.services.pool, { projectId: principalOf(ctx).projectId, name: input.name, role: input.role });
      return { secret, tokenId: id };
    },
  }),
  revokeApiToken: t.boolean({
    authScopes: { admin: true },
    description: 'Revokes a token of this project; false when it was already revoked.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const projectId = principalOf(ctx).projectId;
      if (!isId(args.id)) throw notFound(`API token ${args.id}`);
      const exists = await ctx.services.db.apiToken.findFirst({ where: { id: args.id, projectId }, select: { id: true } });
      if (!exists) throw notFound(`API token ${args.id}`);
      return revokeApiToken(ctx.services.pool, { projectId, tokenId: args.id });
    },
  }),
}));
