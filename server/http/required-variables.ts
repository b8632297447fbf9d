import type { Plugin } from 'graphql-yoga';
import {
  getOperationAST,
  GraphQLError,
  isNonNullType,
  Kind,
  TypeInfo,
  ValidationContext,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { operationArgs, type OperationArgs } from './operation-args.ts';

/** A variable declared nullable with a default, used where a value is required. */
interface RequiredUse {
  name: string;
  /** The type required where it stands, e.g. `ID!`. */
  type: string;
}

/**
 * GraphQL lets a variable declared nullable with a default (`$id: ID = "…"`) stand where a value is
 * required (`job(id: $id)`, `@skip(if: $v)`): left out, its default applies. Sent as an explicit null
 * it passes validation and coercion and fails only inside execution, where graphql-js reports the
 * argument as a field's error, which reads like a server fault (INTERNAL_SERVER_ERROR). This finds such
 * uses once per parsed document and operation (graphql-js' own rule, VariablesInAllowedPosition, finds
 * them the same way) and refuses the request before execution, naming the variable.
 */
function requiredUsesOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): RequiredUse[] {
  const candidates = new Set(
    (operation.variableDefinitions ?? [])
      .filter((d) => d.type.kind !== Kind.NON_NULL_TYPE && d.defaultValue)
      .map((d) => d.variable.name.value),
  );
  if (candidates.size === 0) return []; // the common case: nothing to walk
  const context = new ValidationContext(schema, document, new TypeInfo(schema), () => {});
  const uses = new Map<string, RequiredUse>();
  for (const { node, type } of context.getRecursiveVariableUsages(operation)) {
    const name = node.name.value;
    if (candidates.has(name) && type && isNonNullType(type) && !uses.has(name)) uses.set(name, { name, type: String(type) });
  }
  return [...uses.values()];
}

/** The refusal of a request that sent null for such a variable, or null. */
function nullForRequired(uses: RequiredUse[], variables: OperationArgs['variableValues']): GraphQLError | null {
  if (!variables) return null;
  for (const use of uses) {
    if (Object.hasOwn(variables, use.name) && variables[use.name] === null) {
      return new GraphQLError(
        `Variable "$${use.name}" was sent as null, but it stands where a value is required (${use.type}): send a value, or leave it out to use its default.`,
        { extensions: { code: 'BAD_USER_INPUT' } },
      );
    }
  }
  return null;
}

export function requiredVariablesPlugin(): Plugin {
  const cache = new WeakMap<DocumentNode, Map<OperationDefinitionNode, RequiredUse[]>>();
  const check = (args: Parameters<typeof operationArgs>[0]): GraphQLError | null => {
    const { schema, document, operationName, variableValues } = operationArgs(args);
    const operation = getOperationAST(document, operationName);
    if (!operation) return null; // graphql-js answers a missing or ambiguous operation itself
    let perDocument = cache.get(document);
    if (!perDocument) cache.set(document, (perDocument = new Map<OperationDefinitionNode, RequiredUse[]>()));
    let uses = perDocument.get(operation);
    if (!uses) perDocument.set(operation, (uses = requiredUsesOf(schema, document, operation)));
    return nullForRequired(uses, variableValues);
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
