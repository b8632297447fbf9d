import { setMaxRunningAttempts } from '../projects/set-max-running-attempts.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';

builder.prismaObjectFields('Project', (t) => ({
  maxRunningAttempts: t.exposeInt('maxRunningAttempts', {
    nullable: true,
    description: "The project's own limit on attempts running at once across all workers (null: the operator's default applies).",
  }),
  effectiveMaxRunningAttempts: t.int({
    nullable: true,
    description:
      "The limit in force: the project's own, else the operator's default (AUTODEV_PROJECT_MAX_RUNNING_ATTEMPTS); null: no limit.",
    select: { maxRunningAttempts: true },
    resolve: (p, _args, ctx) => p.maxRunningAttempts ?? ctx.services.config.projectMaxRunningAttempts,
  }),
}));

builder.mutationField('setMaxRunningAttempts', (t) =>
  t.prismaField({
    type: 'Project',
    authScopes: { admin: true },
    description:
      "Sets how many of the project's attempts may run at once across all workers (1–1000; null: the operator's default). Jobs over the limit stay QUEUED and start as slots free.",
    args: { maxRunningAttempts: t.arg.int({ required: false }) },
    resolve: async (query, _root, args, ctx) => {
      const projectId = principalOf(ctx).projectId;
      await setMaxRunningAttempts(ctx.services.pool, {
        projectId,
        maxRunningAttempts: args.maxRunningAttempts ?? null,
        defaultMaxRunning: ctx.services.config.projectMaxRunningAttempts,
      });
      return ctx.services.db.project.findUniqueOrThrow({ ...query, where: { id: projectId } });
    },
  }),
);
