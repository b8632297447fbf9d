import { createProject } from '../projects/create-project.ts';
import { requireInstanceAdmin } from '../projects/instance-admin.ts';
import { CreatedApiToken } from './api-token.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';

// Projects are the instance administrator's (server/projects/instance-admin.ts decides who that is).
// Every other field keeps answering for the caller's own project only.

const ProjectInput = builder.inputType('ProjectInput', {
  fields: (t) => ({
    slug: t.string({ required: true, description: '1 to 48 lowercase letters, digits and inner hyphens; unique in the instance.' }),
    name: t.string({ required: true, description: '1 to 100 characters.' }),
    adminTokenName: t.string({ description: 'The name of the first ADMIN token (default: "<slug> admin").' }),
  }),
});

const CreatedProject = builder.objectRef<{ projectId: string; adminTokenId: string; adminSecret: string }>('CreatedProject').implement({
  fields: (t) => ({
    adminToken: t.field({
      type: CreatedApiToken,
      description: "The project's first ADMIN token; its secret is shown once.",
      resolve: (p) => ({ tokenId: p.adminTokenId, secret: p.adminSecret }),
    }),
  }),
});
builder.objectField(CreatedProject, 'project', (t) =>
  t.prismaField({
    type: 'Project',
    resolve: (query, parent, _args, ctx) => ctx.services.db.project.findUniqueOrThrow({ ...query, where: { id: parent.projectId } }),
  }),
);

builder.queryField('projects', (t) =>
  t.prismaField({
    type: ['Project'],
    authScopes: { admin: true },
    description:
      "Every project of the instance (id, slug, name; none of their contents). Instance administrator only: an ADMIN token of the operator's project `default`.",
    resolve: async (query, _root, _args, ctx) => {
      await requireInstanceAdmin(ctx.services.pool, principalOf(ctx), 'Listing projects');
      return ctx.services.db.project.findMany({ ...query, orderBy: { createdAt: 'asc' } });
    },
  }),
);

builder.mutationField('createProject', (t) =>
  t.field({
    type: CreatedProject,
    authScopes: { admin: true },
    description:
      'Creates a project, its first ADMIN token and the bundled templates. Instance administrator only (an ADMIN token of `default`). The new token sees only the new project; a taken slug is CONFLICT.',
    args: { input: t.arg({ type: ProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await requireInstanceAdmin(ctx.services.pool, principalOf(ctx), 'Creating a project');
      return createProject(ctx.services.pool, input);
    },
  }),
);
