import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';

// envelop (under graphql-yoga) types an operation's schema, document and the enveloped graphql-js
// functions as `any`, to stay independent of the graphql version. These are the graphql-js 16 types
// they carry at run time, stated once.

/** The parts of envelop's onExecute/onSubscribe `args` the plugins read. */
export interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  contextValue: unknown;
}

export const operationArgs = (args: { document: unknown }): OperationArgs => args as OperationArgs;

type Result = ExecutionResult | AsyncIterable<ExecutionResult>;
/** What `yoga.getEnveloped(...)` returns, as used for one WebSocket operation. */
export interface Enveloped {
  schema: GraphQLSchema;
  parse: (source: string) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
  contextFactory: () => object | Promise<object>;
  execute: (args: ExecutionArgs) => Promise<Result> | Result;
  subscribe: (args: ExecutionArgs) => Promise<Result> | Result;
}
