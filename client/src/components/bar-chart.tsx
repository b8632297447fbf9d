import { usd } from '../lib/format';

export interface Series {
  label: string;
  values: number[];
}

const COLORS = ['#3b6fd8', '#e08a2e', '#3aa57a', '#b0479b', '#8a8f2a', '#d04848', '#5a5ad6', '#2aa1a8'];

/** A stacked bar chart of money per day, drawn as SVG (no charting library: a few rects). */
export function StackedBars({ title, days, series }: { title: string; days: string[]; series: Series[] }) {
  const totals = days.map((_, i) => series.reduce((s, x) => s + x.values[i], 0));
  const max = Math.max(...totals, 0) || 1;
  const W = 640;
  const H = 200;
  const pad = 24;
  const bw = Math.max(2, (W - pad) / Math.max(days.length, 1) - 4);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${W} ${H + 20}`}
        role="img"
        aria-label={`${title}: ${series.map((s) => `${s.label} ${usd(s.values.reduce((a, b) => a + b, 0))}`).join(', ')}`}
      >
        <line x1={pad} y1={H} x2={W} y2={H} stroke="#999" />
        <text x={0} y={10} fontSize="10">
          {usd(max)}
        </text>
        {days.map((day, i) => {
          let y = H;
          const x = pad + i * ((W - pad) / days.length) + 2;
          return (
            <g key={day}>
              {series.map((s, k) => {
                const h = (s.values[i] / max) * (H - 16);
                y -= h;
                return h > 0 ? (
                  <rect key={s.label} x={x} y={y} width={bw} height={h} fill={COLORS[k % COLORS.length]}>
                    <title>{`${day} · ${s.label}: ${usd(s.values[i])}`}</title>
                  </rect>
                ) : null;
              })}
              {(days.length <= 10 || i % Math.ceil(days.length / 8) === 0) && (
                <text x={x} y={H + 14} fontSize="10">
                  {day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s, k) => (
          <li key={s.label}>
            <span className="swatch" style={{ background: COLORS[k % COLORS.length] }} /> {s.label}:{' '}
            {usd(s.values.reduce((a, b) => a + b, 0))}
          </li>
        ))}
      </ul>
    </figure>
  );
}
