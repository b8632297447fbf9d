/** A crew's output, rendered: text as paragraphs, lists as lists, anything else as JSON. */
export function OutputView({ output }: { output: unknown }) {
  if (output == null) return <p className="muted">No output yet.</p>;
  if (typeof output !== 'object' || Array.isArray(output)) return <Value value={output} />;
  return (
    <dl className="output">
      {Object.entries(output as Record<string, unknown>).map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <Value value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Value({ value }: { value: unknown }) {
  if (typeof value === 'string') return <p className="prose">{value}</p>;
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return (
      <ul>
        {value.map((v, i) => (
          <li key={i}>{v}</li>
        ))}
      </ul>
    );
  if (Array.isArray(value) && value.every((v: unknown): v is { path: unknown } => typeof v === 'object' && v !== null && 'path' in v))
    return (
      <ul>
        {value.map((v, i) => (
          <li key={i}>
            <code>{typeof v.path === 'string' ? v.path : JSON.stringify(v.path)}</code>
          </li>
        ))}
      </ul>
    );
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}
