import type { Plugin } from 'graphql-yoga';
import { getOperationAST } from 'graphql';
import { operationArgs } from './operation-args.ts';
import type { Tracer } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { operationLabel, type Metrics } from '../observability/metrics.ts';
import type { Logger } from '../logger.ts';

type ResultError = { extensions?: Record<string, unknown>; originalError?: unknown };
/** The code an error will answer with (the GraphQL edge decides it: http/graphql-error.ts). */
type CodeOf = (error: ResultError) => string;

function countErrors(metrics: Metrics, codeOf: CodeOf, errors: readonly ResultError[] | undefined) {
  for (const e of errors ?? []) metrics.graphqlErrors.inc({ code: codeOf(e) });
}

/** Duration per operation (named only for authenticated callers), errors per code, and a span per operation (when tracing is on). */
export function useGraphqlObservability(metrics: Metrics, tracer: Tracer, log: Logger, codeOf: CodeOf): Plugin {
  const names = new Set<string>();
  return {
    onValidate() {
      return ({ result }) => countErrors(metrics, codeOf, result as never);
    },
    onExecute({ args }) {
      const { requestId, principal } = args.contextValue as { requestId?: string; principal?: unknown };
      const { document, operationName } = operationArgs(args);
      const op = getOperationAST(document, operationName);
      // Only a caller with a token may add an operation name to the bounded label set: strangers
      // could otherwise fill its 200 places with names of their own.
      const operation = principal ? operationLabel(names, op?.name?.value ?? operationName) : 'unauthenticated';
      const labels = { operation, type: op?.operation ?? 'unknown' };
      const end = metrics.graphqlDuration.startTimer(labels);
      const span = tracer.startSpan(`graphql.${labels.type} ${labels.operation}`, {
        attributes: { 'graphql.operation.name': labels.operation, 'graphql.operation.type': labels.type },
      });
      return {
        onExecuteDone({ result }) {
          end();
          const errors = 'errors' in result ? (result.errors as never) : undefined;
          countErrors(metrics, codeOf, errors);
          if (errors && (errors as unknown[]).length) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            const codes = (errors as ResultError[]).map(codeOf);
            log.info('graphql operation returned errors', { requestId, operation: labels.operation, codes });
          }
          span.end();
        },
      };
    },
  };
}
