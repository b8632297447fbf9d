import { trace, type Tracer } from '@opentelemetry/api';

export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise a no-op tracer that costs nothing.
 */
export async function createTracing(opts: { endpoint?: string; serviceName: string; role: string }): Promise<Tracing> {
  if (!opts.endpoint) return { tracer: trace.getTracer('autodev'), shutdown: async () => {} };
  // The SDK and exporter only when traces are exported (importing them cost every start ~100 ms).
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'autodev.role': opts.role }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.endpoint }), { scheduledDelayMillis: 500 })],
  });
  return {
    tracer: provider.getTracer('autodev'),
    shutdown: () => provider.shutdown(),
  };
}
