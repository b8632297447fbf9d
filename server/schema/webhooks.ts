import {
  createEndpoint,
  DEFAULT_KEEP_PREVIOUS_SECONDS,
  deleteEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../webhooks/endpoints.ts';
import { webhookMessageId } from '../webhooks/deliver-webhook.ts';
import { redeliverWebhook } from '../webhooks/redeliver-webhook.ts';
import { notFound } from '../errors.ts';
import { builder } from './builder.ts';
import { principalOf } from './context.ts';
import { isId } from './ids.ts';

// Webhook endpoints of the caller's project and their delivery logs; everything here needs ADMIN
// (the secret signs what AutoDev says; the log shows where the project's events go and what they say).

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
    deliveries: t.relatedConnection('deliveries', {
      cursor: 'id',
      description: "The endpoint's delivery log, newest first.",
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] },
    }),
  }),
});

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: { PENDING: { value: 'PENDING' }, SUCCEEDED: { value: 'SUCCEEDED' }, FAILED: { value: 'FAILED' } } as const,
  description: 'PENDING: not delivered yet (an attempt is queued, see nextRetryAt); SUCCEEDED: a 2xx answer; FAILED: every attempt failed.',
});

builder.prismaObject('WebhookDelivery', {
  fields: (t) => ({
    id: t.exposeID('id'),
    webhookId: t.string({
      description: 'The `webhook-id` header: the same on every attempt and redelivery.',
      select: { id: true },
      resolve: (d) => webhookMessageId(d.id),
    }),
    eventType: t.field({ type: WebhookEventTypeEnum, select: { eventType: true }, resolve: (d) => d.eventType as WebhookEventType }),
    payload: t.string({ description: 'The body as sent (JSON text).', select: { body: true }, resolve: (d) => d.body }),
    status: t.field({ type: WebhookDeliveryStatusEnum, select: { status: true }, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    responseStatus: t.exposeInt('responseStatus', {
      nullable: true,
      description: 'The HTTP status of the last attempt; null when none came (timeout, refused, connection error).',
    }),
    durationMs: t.exposeInt('durationMs', { nullable: true, description: 'How long the last attempt took.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt failed, in a sentence.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextRetryAt: t.expose('nextRetryAt', { type: 'DateTime', nullable: true, description: 'When the next attempt is due (PENDING only).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const EndpointWithSecret = builder.objectRef<{ endpointId: string; secret: string }>('WebhookEndpointWithSecret').implement({
  fields: (t) => ({ secret: t.exposeString('secret', { description: 'The signing secret (`whsec_…`), shown once.' }) }),
});
builder.objectField(EndpointWithSecret, 'endpoint', (t) =>
  t.prismaField({
    type: WebhookEndpoint,
    resolve: (query, parent, _args, ctx) =>
      ctx.services.db.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: parent.endpointId } }),
  }),
);

const CreateInput = builder.inputType('WebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'http(s); private, loopback and link-local destinations are refused unless the operator allows them.',
    }),
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
      ctx.services.db.webhookEndpoint.findMany({
        ...query,
        where: { projectId: principalOf(ctx).projectId },
        orderBy: { createdAt: 'asc' },
      }),
  }),
);

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: EndpointWithSecret,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { id, secret } = await createEndpoint(
        ctx.services.pool,
        principalOf(ctx).projectId,
        input,
        ctx.services.config.webhookAllowPrivate,
      );
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
  redeliverWebhook: t.prismaField({
    type: 'WebhookDelivery',
    authScopes: { admin: true },
    description: 'Queues an attempt of the delivery now, with the same `webhook-id` and body (signed with the current secret).',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = args.deliveryId;
      if (!isId(id)) throw notFound(`Webhook delivery ${id}`);
      await redeliverWebhook(ctx.services.pool, principalOf(ctx).projectId, id);
      return ctx.services.db.webhookDelivery.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  rotateWebhookSecret: t.field({
    type: EndpointWithSecret,
    authScopes: { admin: true },
    description: `A new signing secret. The previous one keeps signing next to it for \`keepPreviousSeconds\` (default ${DEFAULT_KEEP_PREVIOUS_SECONDS}, at most 7 days; 0 retires it at once).`,
    args: { id: t.arg.id({ required: true }), keepPreviousSeconds: t.arg.int() },
    resolve: async (_root, args, ctx) => {
      const id = endpointId(args.id);
      const secret = await rotateEndpointSecret(
        ctx.services.pool,
        principalOf(ctx).projectId,
        id,
        args.keepPreviousSeconds ?? DEFAULT_KEEP_PREVIOUS_SECONDS,
      );
      return { endpointId: id, secret };
    },
  }),
}));
