import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise a no-op tracer that costs nothing.
 */
export function createTracing(opts: { endpoint?: string; serviceName: string; role: string }): Tracing {
  if (!opts.endpoint) return { tracer: trace.getTracer('autodev'), shutdown: async () => {} };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'autodev.role': opts.role }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.endpoint }), { scheduledDelayMillis: 500 })],
  });
  return {
    tracer: provider.getTracer('autodev'),
    shutdown: () => provider.shutdown(),
  };
}
