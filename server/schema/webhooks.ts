import {
  createEndpoint,
  DEFAULT_KEEP_PREVIOUS_SECONDS,
  deleteEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../webhooks/endpoints.ts';
import { notFound } from '../errors.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { isId } from './ids.ts';

// Webhook endpoints of the caller's project; everything here needs ADMIN (the secret signs what AutoDev says).

const WebhookEventTypeEnum = builder.enumType('WebhookEventType', {
  values: Object.fromEntries(WEBHOOK_EVENT_TYPES.map((v) => [v, { value: v }])) as Record<WebhookEventType, { value: WebhookEventType }>,
  description: 'What an endpoint subscribes to: job state changes, reviews requested, human input requested, budget thresholds.',
});

const WebhookEndpoint = builder.prismaObject('WebhookEndpoint', {
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], select: { eventTypes: true }, resolve: (e) => e.eventTypes as WebhookEventType[] }),
    enabled: t.exposeBoolean('enabled'),
    previousSecretExpiresAt: t.expose('previousSecretExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: until when deliveries are also signed with the previous secret.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const EndpointWithSecret = builder.objectRef<{ endpointId: string; secret: string }>('WebhookEndpointWithSecret').implement({
  fields: (t) => ({ secret: t.exposeString('secret', { description: 'The signing secret (`whsec_…`), shown once.' }) }),
});
builder.objectField(EndpointWithSecret, 'endpoint', (t) =>
  t.prismaField({
    type: WebhookEndpoint,
    resolve: (query, parent, _args, ctx) => ctx.services.db.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: parent.endpointId } }),
  }),
);

const CreateInput = builder.inputType('WebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http(s); private, loopback and link-local destinations are refused unless the operator allows them.' }),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], required: true }),
    description: t.string(),
  }),
});
const UpdateInput = builder.inputType('WebhookEndpointUpdate', {
  fields: (t) => ({
    url: t.string(),
    eventTypes: t.field({ type: [WebhookEventTypeEnum] }),
    description: t.string(),
    enabled: t.boolean(),
  }),
});

function endpointId(id: string | number): string {
  const s = String(id);
  if (!isId(s)) throw notFound(`Webhook endpoint ${s}`);
  return s;
}

builder.queryField('webhookEndpoints', (t) =>
  t.prismaField({
    type: [WebhookEndpoint],
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.webhookEndpoint.findMany({ ...query, where: { projectId: principalOf(ctx).projectId }, orderBy: { createdAt: 'asc' } }),
  }),
);

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: EndpointWithSecret,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { id, secret } = await createEndpoint(ctx.services.pool, principalOf(ctx).projectId, input, ctx.services.config.webhookAllowPrivate);
      return { endpointId: id, secret };
    },
  }),
  updateWebhookEndpoint: t.prismaField({
    type: WebhookEndpoint,
    authScopes: { admin: true },
    description: 'Changes the fields given; the others stay.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = endpointId(args.id);
      await updateEndpoint(ctx.services.pool, principalOf(ctx).projectId, id, args.input, ctx.services.config.webhookAllowPrivate);
      return ctx.services.db.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  deleteWebhookEndpoint: t.boolean({
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await deleteEndpoint(ctx.services.pool, principalOf(ctx).projectId, endpointId(args.id));
      return true;
    },
  }),
  rotateWebhookSecret: t.field({
    type: EndpointWithSecret,
    authScopes: { admin: true },
    description: `A new signing secret. The previous one keeps signing next to it for \`keepPreviousSeconds\` (default ${DEFAULT_KEEP_PREVIOUS_SECONDS}, at most 7 days; 0 retires it at once).`,
    args: { id: t.arg.id({ required: true }), keepPreviousSeconds: t.arg.int() },
    resolve: async (_root, args, ctx) => {
      const id = endpointId(args.id);
      const secret = await rotateEndpointSecret(ctx.services.pool, principalOf(ctx).projectId, id, args.keepPreviousSeconds ?? DEFAULT_KEEP_PREVIOUS_SECONDS);
      return { endpointId: id, secret };
    },
  }),
}));
