import { MAX_COUNTED_SKIPS, MISFIRE_GRACE_MS } from '../schedules/cron.ts';
import { createSchedule, deleteSchedule, MAX_SCHEDULES_PER_PROJECT, updateSchedule } from '../schedules/schedules.ts';
import { badInput, notFound } from '../errors.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { isId } from './ids.ts';

// Schedules of the caller's project: OPERATOR and above create, change and delete them (each tick
// creates a job as createJob does); every role reads them, as every role reads the jobs they make.

const MAX_TICKS_SHOWN = 50;

builder.prismaObject('ScheduleTick', {
  fields: (t) => ({
    scheduledAt: t.expose('scheduledAt', {
      type: 'DateTime',
      description: 'The tick’s time (the job’s idempotency key is `schedule:<id>:<this time>`).',
    }),
    job: t.relation('job', { nullable: true, description: 'The job the tick created; null when it was refused (see `error`) or deleted.' }),
    skipped: t.exposeInt('skipped', {
      description: `Older ticks skipped in favour of this one: they were more than ${MISFIRE_GRACE_MS / 1000} s late because nothing ran.`,
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why no job was created (e.g. the budget is spent, the input no longer fits the template).',
    }),
  }),
});

builder.prismaObject('Schedule', {
  fields: (t) => ({
    id: t.exposeID('id'),
    template: t.relation('template'),
    input: t.expose('input', { type: 'JSON' }),
    cron: t.exposeString('cron', { description: '5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.' }),
    timezone: t.exposeString('timezone', { description: 'The IANA time zone the expression is read in.' }),
    paused: t.exposeBoolean('paused'),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true, description: 'When the next tick is due; null while paused.' }),
    lastTickAt: t.expose('lastTickAt', { type: 'DateTime', nullable: true }),
    skippedTicks: t.exposeInt('skippedTicks', {
      description: `Ticks missed while nothing ran, in all (each counted up to ${MAX_COUNTED_SKIPS}).`,
    }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    recentTicks: t.relation('ticks', {
      description: `The latest ticks, newest first (\`last\`: default 10, at most ${MAX_TICKS_SHOWN}).`,
      args: { last: t.arg.int({ defaultValue: 10 }) },
      query: (args) => {
        const last = args.last ?? 10;
        if (last < 1 || last > MAX_TICKS_SHOWN) throw badInput(`\`last\` must be from 1 to ${MAX_TICKS_SHOWN}.`, { field: 'last' });
        return { orderBy: { scheduledAt: 'desc' }, take: last };
      },
    }),
  }),
});

const ScheduleInput = builder.inputType('ScheduleInput', {
  fields: (t) => ({
    templateSlug: t.string({ required: true }),
    input: t.field({ type: 'JSON', required: true, description: "Each tick's job input; must satisfy the template's input schema." }),
    cron: t.string({ required: true, description: 'e.g. "0 9 * * 1-5" (9:00 on weekdays) or "*/10 * * * * *" (every 10 seconds).' }),
    timezone: t.string({ description: 'IANA time zone; default UTC.' }),
    paused: t.boolean({ description: 'Created paused: no tick until resumed. Default false.' }),
  }),
});
const ScheduleUpdate = builder.inputType('ScheduleUpdate', {
  fields: (t) => ({
    input: t.field({ type: 'JSON' }),
    cron: t.string(),
    timezone: t.string(),
    paused: t.boolean({
      description: 'true pauses (the pending tick is removed); false resumes from the next tick after now (missed ones are not caught up).',
    }),
  }),
});

function scheduleId(id: string | number): string {
  const s = String(id);
  if (!isId(s)) throw notFound(`Schedule ${s}`);
  return s;
}

builder.queryFields((t) => ({
  schedules: t.prismaField({
    type: ['Schedule'],
    description: `The project's schedules, oldest first (at most ${MAX_SCHEDULES_PER_PROJECT}).`,
    authScopes: { viewer: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.schedule.findMany({
        ...query,
        where: { projectId: principalOf(ctx).projectId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
  }),
  schedule: t.prismaField({
    type: 'Schedule',
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      isId(args.id)
        ? ctx.services.db.schedule.findFirst({ ...query, where: { id: args.id, projectId: principalOf(ctx).projectId } })
        : null,
  }),
}));

builder.mutationFields((t) => ({
  createSchedule: t.prismaField({
    type: 'Schedule',
    authScopes: { operator: true },
    args: { input: t.arg({ type: ScheduleInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = principalOf(ctx);
      const id = await createSchedule(ctx.services.pool, p.projectId, { tokenId: p.tokenId, name: p.name }, input);
      return ctx.services.db.schedule.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  updateSchedule: t.prismaField({
    type: 'Schedule',
    authScopes: { operator: true },
    description: 'Changes the fields given; the others stay. The pending tick is replaced by the next one under the new settings.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: ScheduleUpdate, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = scheduleId(args.id);
      await updateSchedule(ctx.services.pool, principalOf(ctx).projectId, id, args.input);
      return ctx.services.db.schedule.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  deleteSchedule: t.boolean({
    authScopes: { operator: true },
    description: 'Deletes the schedule and its pending tick; the jobs it created stay.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await deleteSchedule(ctx.services.pool, principalOf(ctx).projectId, scheduleId(args.id));
      return true;
    },
  }),
}));
