import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { EVENT_KINDS, kindOf, type EventKind } from '../lib/event-kind';
import { time } from '../lib/format';
import type { JobEvent } from '../lib/use-job-events';

const ROW = 22;
const levelOf = (e: JobEvent) =>
  (e.data as { level?: string } | null)?.level ?? (e.type === 'GUARDRAIL' && /failed/i.test(e.message ?? '') ? 'warn' : 'info');
const textOf = (e: JobEvent) => e.message ?? (e.type === 'STATE_CHANGED' ? `${e.fromState ?? '∅'} → ${e.toState}` : e.type);

/** Every event of the job as a log line: virtualized, following the tail, filterable by kind, agent and level. */
export function LogView({ events }: { events: JobEvent[] }) {
  const [agent, setAgent] = useState('');
  const [level, setLevel] = useState('');
  const [kind, setKind] = useState<EventKind | ''>('');
  const [follow, setFollow] = useState(true);
  const agents = useMemo(() => [...new Set(events.map((e) => e.actor))].sort(), [events]);
  const lines = useMemo(
    () => events.filter((e) => (!kind || kindOf(e) === kind) && (!agent || e.actor === agent) && (!level || levelOf(e) === level)),
    [events, kind, agent, level],
  );
  const parent = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual hands back one mutable instance by design; this app does not run the React Compiler (the rule's concern), and the effect below lists the instance as a dependency.
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW,
    overscan: 20,
  });

  useEffect(() => {
    if (follow && lines.length) virtualizer.scrollToIndex(lines.length - 1, { align: 'end' });
  }, [follow, lines.length, virtualizer]);

  const onScroll = () => {
    const el = parent.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW * 2;
    if (atBottom !== follow) setFollow(atBottom);
  };

  return (
    <section className="panel" aria-labelledby="logs-title">
      <div className="panel-head">
        <h2 id="logs-title">Logs</h2>
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value as EventKind | '')} aria-label="Filter by kind">
            <option value="">all</option>
            {EVENT_KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent{' '}
          <select value={agent} onChange={(e) => setAgent(e.target.value)} aria-label="Filter by agent">
            <option value="">all</option>
            {agents.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          Level{' '}
          <select value={level} onChange={(e) => setLevel(e.target.value)} aria-label="Filter by level">
            <option value="">all</option>
            <option>debug</option>
            <option>info</option>
            <option>warn</option>
            <option>error</option>
          </select>
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <span className="muted" data-testid="log-count" data-count={lines.length} data-last-seq={events.at(-1)?.seq ?? 0}>
          {lines.length} of {events.length} lines
        </span>
      </div>
      <div ref={parent} className="logs" onScroll={onScroll} tabIndex={0} aria-label="Log lines">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((row) => {
            const e = lines[row.index];
            return (
              <div
                key={e.seq}
                className={`log-line level-${levelOf(e)} type-${e.type.toLowerCase()}`}
                data-seq={e.seq}
                style={{ position: 'absolute', top: 0, transform: `translateY(${row.start}px)`, height: ROW, width: '100%' }}
              >
                <span className="log-seq">{e.seq}</span>
                <span className="log-time">{time(e.createdAt)}</span>
                <span className="log-actor">{e.actor}</span>
                <span className="log-text" title={textOf(e)}>
                  {textOf(e)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
