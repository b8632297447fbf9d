import { readFileSync } from 'node:fs';
import { compileUserSchema, sharedAjv } from '../json-schema/ajv.ts';
import { runnerEnvAllowed, SAFE_RUNNER_ENV } from '../runner-protocol/runner-env.ts';
import { checkPattern } from '../json-schema/linear-regexp.ts';
import { patternsOf } from '../json-schema/schema-patterns.ts';
import { describeErrors, sentence, type FieldError } from '../json-schema/describe-errors.ts';
import { TOOL_NAMES } from '../runner/tools/index.ts';
import { undeclaredPlaceholders } from '../runner/agents/placeholders.ts';
import type { TemplateDefinition } from '../../schemas/types/template-definition.ts';

// The definition's type is generated from the schema that validates it (npm run schema:types).
export type { TemplateDefinition };
export type AgentDefinition = TemplateDefinition['crew']['agents'][number];
export type TaskDefinition = TemplateDefinition['crew']['tasks'][number];
import { asksForInput } from '../runner/human-input.ts';

const definitionSchema = JSON.parse(readFileSync(new URL('../../schemas/template.schema.json', import.meta.url), 'utf8')) as object;
const validateShape = sharedAjv().compile(definitionSchema);

export type TemplateValidation = { ok: true; template: TemplateDefinition } | { ok: false; message: string; errors: FieldError[] };

function refuse(errors: FieldError[]): TemplateValidation {
  return { ok: false, message: `The template is invalid: ${sentence(errors)}.`, errors };
}

/** All patterns of one schema together: bounds the time and memory one compiled schema costs. */
export const MAX_SCHEMA_INSTRUCTIONS = 10_000;

/**
 * Patterns the server cannot run in linear time (backreferences, lookaround) or that cost too
 * much to compile, named by field, so the admin learns it at upsertTemplate rather than at createJob.
 */
function patternProblems(field: string, schema: object): FieldError[] {
  const problems: FieldError[] = [];
  let total = 0;
  for (const p of patternsOf(schema, field)) {
    const checked = checkPattern(p.pattern);
    if (checked.ok) total += checked.instructions;
    else problems.push({ field: p.field, message: `is a pattern this server cannot run: ${checked.reason}` });
  }
  if (total > MAX_SCHEMA_INSTRUCTIONS) {
    problems.push({
      field,
      message: `has patterns that compile to ${total} instructions together, over the limit of ${MAX_SCHEMA_INSTRUCTIONS}`,
    });
  }
  return problems;
}

function schemaProblems(field: string, schema: object): FieldError[] {
  const ajv = sharedAjv();
  if (!ajv.validateSchema(schema)) {
    const first = ajv.errors?.[0];
    return [{ field, message: `is not a valid JSON Schema (${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'})` }];
  }
  const patterns = patternProblems(field, schema);
  if (patterns.length) return patterns;
  try {
    compileUserSchema(schema);
    return [];
  } catch (err) {
    const message = (err as Error).message;
    if (/can't resolve reference/.test(message)) {
      return [{ field, message: `is not a usable JSON Schema (${message}); a \`$ref\` may only point inside the same schema` }];
    }
    return [{ field, message: `is not a usable JSON Schema (${message})` }];
  }
}

/** `executor.env` names outside the allow-list, each named with what the admin can do about it. */
function envProblems(names: readonly string[], runnerEnvAllow: readonly string[]): FieldError[] {
  return names.flatMap((name, i) =>
    runnerEnvAllowed(name, runnerEnvAllow)
      ? []
      : [
          {
            field: `executor.env[${i}]`,
            message: `names \`${name}\`, which runners may not receive: allowed are ${[...SAFE_RUNNER_ENV, ...runnerEnvAllow].join(', ')} (the operator adds names with AUTODEV_RUNNER_ENV_ALLOW)`,
          },
        ],
  );
}

/** Tools an agent is granted that do not exist, named with the agent and the tools there are. */
function toolProblems(agents: AgentDefinition[]): FieldError[] {
  return agents.flatMap((a, i) =>
    (a.tools ?? []).flatMap((name, j) =>
      TOOL_NAMES.includes(name)
        ? []
        : [
            {
              field: `crew.agents[${i}].tools[${j}]`,
              message: `grants agent \`${a.id}\` the unknown tool \`${name}\` (the tools are ${TOOL_NAMES.join(', ')})`,
            },
          ],
    ),
  );
}

/** `{name}` placeholders the input schema does not declare: they would reach the model as typed. */
function placeholderProblems(t: TemplateDefinition): FieldError[] {
  const texts: [string, string][] = [
    ...t.crew.agents.flatMap((a, i) =>
      (['role', 'goal', 'backstory'] as const).map((k): [string, string] => [`crew.agents[${i}].${k}`, a[k]]),
    ),
    ...t.crew.tasks.flatMap((task, i) =>
      (['description', 'expectedOutput'] as const).map((k): [string, string] => [`crew.tasks[${i}].${k}`, task[k]]),
    ),
    ...t.crew.tasks.flatMap((task, i): [string, string][] => (task.question ? [[`crew.tasks[${i}].question`, task.question]] : [])),
  ];
  return texts.flatMap(([field, text]) =>
    undeclaredPlaceholders(text, t.inputSchema).map((name) => ({
      field,
      message: `uses the placeholder \`{${name}}\`, which the input schema does not declare (declare it, or write \`{{${name}}}\` for the literal text)`,
    })),
  );
}

/** The workspace's input fields must be declared string fields; check names distinct. */
function workspaceProblems(t: TemplateDefinition): FieldError[] {
  const errors: FieldError[] = [];
  const props = (t.inputSchema as { properties?: Record<string, { type?: unknown } | undefined> }).properties ?? {};
  if (t.workspace) {
    for (const [key, fallback] of [
      ['repositoryField', 'repository'],
      ['refField', 'ref'],
    ] as const) {
      const name = t.workspace[key] ?? fallback;
      const declared = Object.hasOwn(props, name) ? props[name] : undefined;
      if (declared && declared.type !== 'string')
        errors.push({ field: `workspace.${key}`, message: `names input field \`${name}\`, which is not a string field` });
      else if (!declared && (key === 'repositoryField' || t.workspace[key]))
        errors.push({ field: `workspace.${key}`, message: `names input field \`${name}\`, which the input schema does not declare` });
    }
  }
  const seen = new Set<string>();
  (t.checks ?? []).forEach((c, i) => {
    if (seen.has(c.name)) errors.push({ field: `checks[${i}].name`, message: `repeats check name \`${c.name}\`` });
    seen.add(c.name);
  });
  return errors;
}

/** Whether the template runs on the agent runtime (a workspace, checks, or an agent with tools), as the runner decides (usesAgentRuntime). */
const onAgentRuntime = (t: TemplateDefinition) =>
  Boolean(t.workspace) || (t.checks?.length ?? 0) > 0 || t.crew.agents.some((a) => (a.tools?.length ?? 0) > 0);

/**
 * Agent-runtime settings: task fields only that runtime honours, the sandbox's network only where
 * the operator allows it, credentials only by names runners may receive.
 */
function runtimeProblems(t: TemplateDefinition, opts: { runnerEnvAllow: readonly string[]; sandboxNetwork: boolean }): FieldError[] {
  const errors: FieldError[] = [];
  const runtime = onAgentRuntime(t);
  t.crew.tasks.forEach((task, i) => {
    if (task.outputSchema) errors.push(...schemaProblems(`crew.tasks[${i}].outputSchema`, task.outputSchema));
    for (const key of ['maxSteps', 'outputSchema'] as const) {
      if (task[key] !== undefined && !runtime) {
        errors.push({
          field: `crew.tasks[${i}].${key}`,
          message: `applies only on the agent runtime (a template with a workspace, checks, or an agent with tools), which task \`${task.id}\`'s template does not use`,
        });
      }
    }
  });
  const w = t.workspace;
  if (w?.network === 'host' && !opts.sandboxNetwork) {
    errors.push({
      field: 'workspace.network',
      message:
        'asks for the host network, which this server does not give commands (the operator allows it with AUTODEV_SANDBOX_NETWORK=allow)',
    });
  }
  for (const [field, name] of [
    ['workspace.credentialsEnv', w?.credentialsEnv],
    ['workspace.push.credentialsEnv', w?.push?.credentialsEnv],
  ] as const) {
    if (name && !runnerEnvAllowed(name, opts.runnerEnvAllow)) {
      errors.push({
        field,
        message: `names \`${name}\`, which runners may not receive (the operator allows a credential variable with AUTODEV_RUNNER_ENV_ALLOW)`,
      });
    }
  }
  const unknown = (w?.push?.branch.match(/\{[^}]*\}/g) ?? []).filter((p) => p !== '{jobId}' && p !== '{attempt}');
  if (unknown.length)
    errors.push({ field: 'workspace.push.branch', message: `uses ${unknown.join(', ')}; a branch may use {jobId} and {attempt}` });
  return errors;
}

/**
 * Shape (schemas/template.schema.json), valid input/output JSON Schemas, a consistent crew,
 * `executor.env` and credential names within the operator's allow-list (`runnerEnvAllow`, beyond
 * the fixed safe set), and the host network for commands only when `sandboxNetwork` allows it.
 */
export function validateTemplateDefinition(
  def: unknown,
  opts: { runnerEnvAllow?: readonly string[]; sandboxNetwork?: boolean } = {},
): TemplateValidation {
  if (!validateShape(def)) return refuse(describeErrors(validateShape.errors));
  const t = def as TemplateDefinition;
  const errors: FieldError[] = [];
  for (const field of ['inputSchema', 'outputSchema'] as const) {
    errors.push(...schemaProblems(field, t[field]));
  }
  errors.push(...envProblems(t.executor?.env ?? [], opts.runnerEnvAllow ?? []));
  errors.push(...toolProblems(t.crew.agents), ...placeholderProblems(t), ...workspaceProblems(t));
  errors.push(...runtimeProblems(t, { runnerEnvAllow: opts.runnerEnvAllow ?? [], sandboxNetwork: opts.sandboxNetwork ?? false }));
  const agents = new Set<string>();
  t.crew.agents.forEach((a, i) => {
    if (agents.has(a.id)) errors.push({ field: `crew.agents[${i}].id`, message: `repeats agent id \`${a.id}\`` });
    agents.add(a.id);
  });
  const earlier = new Set<string>();
  t.crew.tasks.forEach((task, i) => {
    if (earlier.has(task.id)) errors.push({ field: `crew.tasks[${i}].id`, message: `repeats task id \`${task.id}\`` });
    if (!agents.has(task.agent))
      errors.push({ field: `crew.tasks[${i}].agent`, message: `names unknown agent \`${task.agent}\` (task \`${task.id}\`)` });
    if ((task.inputTimeoutSeconds !== undefined || task.onInputTimeout !== undefined) && !asksForInput(task)) {
      errors.push({
        field: `crew.tasks[${i}].inputTimeoutSeconds`,
        message: `limits a wait for input, but task \`${task.id}\` asks for none (set humanInput or a question)`,
      });
    }
    for (const c of task.context ?? []) {
      if (!earlier.has(c))
        errors.push({ field: `crew.tasks[${i}].context`, message: `names \`${c}\`, which is not an earlier task (task \`${task.id}\`)` });
    }
    earlier.add(task.id);
  });
  return errors.length ? refuse(errors) : { ok: true, template: t };
}
