import type { Principal } from '../auth/tokens.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { RoleEnum } from './enums.ts';

builder.prismaObject('Project', {
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

interface ViewerShape {
  tokenId: string;
  tokenName: string;
  role: Principal['role'];
  projectId: string;
}

const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
  fields: (t) => ({
    tokenId: t.exposeID('tokenId'),
    tokenName: t.exposeString('tokenName'),
    role: t.expose('role', { type: RoleEnum }),
    projectId: t.exposeID('projectId'),
  }),
});

builder.objectField(Viewer, 'project', (t) =>
  t.prismaField({
    type: 'Project',
    resolve: (query, viewer, _args, ctx) => ctx.services.db.project.findUniqueOrThrow({ ...query, where: { id: viewer.projectId } }),
  }),
);

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    authScopes: { viewer: true },
    description: 'The calling token: its project and role.',
    resolve: (_root, _args, ctx) => {
      const p = principalOf(ctx);
      return { tokenId: p.tokenId, tokenName: p.name, role: p.role, projectId: p.projectId };
    },
  }),
);
