import { useState, type SubmitEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { StackedBars, type Series } from '../components/bar-chart';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import type { BudgetPeriod } from '../gql/graphql';
import { can, useConnection } from '../lib/connection';
import { dateTime, errorMessage, usd } from '../lib/format';
import { BudgetsQuery } from '../lib/operations';
import { RunningLimitPanel } from './running-limit';

const SpendQuery = graphql(`
  query Spend($days: Int!) {
    spend(days: $days) {
      day
      model
      templateSlug
      costUsd
      inputTokens
      outputTokens
      charges
    }
  }
`);

const SetBudget = graphql(`
  mutation SetBudget($input: BudgetInput!) {
    setBudget(input: $input) {
      id
      limitUsd
      spentUsd
      period
    }
  }
`);

/** The periods a budget can have, as offered (a Record, so a period the schema gains fails the type check until named here). */
const PERIODS: Record<BudgetPeriod, string> = { MONTHLY: 'monthly', DAILY: 'daily', TOTAL: 'total' };

function lastDays(n: number): string[] {
  const out: string[] = [];
  const today = new Date();
  for (let i = n - 1; i >= 0; i--)
    out.push(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i)).toISOString().slice(0, 10));
  return out;
}

function seriesBy<R extends { day: string; costUsd: number }>(rows: R[], keyOf: (r: R) => string, days: string[]): Series[] {
  const by = new Map<string, number[]>();
  for (const r of rows) {
    const k = keyOf(r);
    if (!by.has(k))
      by.set(
        k,
        days.map(() => 0),
      );
    const i = days.indexOf(r.day);
    if (i >= 0) by.get(k)![i] += r.costUsd;
  }
  return [...by.entries()]
    .map(([label, values]) => ({ label, values }))
    .sort((a, b) => b.values.reduce((x, y) => x + y, 0) - a.values.reduce((x, y) => x + y, 0));
}

/** Spend against the limit, and spend over time by model and by template. */
export function BudgetsPage() {
  const { role } = useConnection();
  const [days, setDays] = useState(14);
  const [budgets, refetchBudgets] = useQuery({ query: BudgetsQuery, requestPolicy: 'network-only' });
  const [spend] = useQuery({ query: SpendQuery, variables: { days }, requestPolicy: 'network-only' });
  const [saved, save] = useMutation(SetBudget);
  const [limit, setLimit] = useState('');
  const [period, setPeriod] = useState<BudgetPeriod>('MONTHLY');
  const budget = budgets.data?.budgets[0];
  const dayList = lastDays(days);
  const rows = spend.data?.spend ?? [];
  const total = rows.reduce((s, r) => s + r.costUsd, 0);

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const res = await save({ input: { limitUsd: Number(limit), period } });
    if (!res.error) {
      setLimit('');
      refetchBudgets({ requestPolicy: 'network-only' });
    }
  };

  return (
    <main>
      <h1>Budgets</h1>
      <ErrorBox message={errorMessage(budgets.error ?? spend.error)} />
      <section className="panel" aria-labelledby="limit-title">
        <h2 id="limit-title">Project budget</h2>
        {budgets.fetching && !budgets.data && <Loading what="the budget" />}
        {budgets.data && !budget && <Empty>No budget is set: jobs are limited only by their own maximum cost.</Empty>}
        {budget && (
          <div className="meter big-meter" data-testid="budget">
            <span>
              {usd(budget.spentUsd)} spent of {usd(budget.limitUsd)} ({budget.period.toLowerCase()}, since {dateTime(budget.periodStart)}) —{' '}
              {budget.percentUsed.toFixed(1)}%
            </span>
            <progress
              value={Math.min(100, budget.percentUsed)}
              max={100}
              aria-label="Budget used"
              className={budget.percentUsed >= 80 ? 'warn' : ''}
            />
          </div>
        )}
        {can(role, 'ADMIN') && (
          <form onSubmit={(e) => void submit(e)} className="inline-form">
            <label>
              Limit (USD) <input type="number" min="0" step="0.01" required value={limit} onChange={(e) => setLimit(e.target.value)} />
            </label>
            <label>
              Period{' '}
              <select value={period} onChange={(e) => setPeriod(e.target.value as BudgetPeriod)}>
                {(Object.keys(PERIODS) as BudgetPeriod[]).map((p) => (
                  <option key={p} value={p}>
                    {PERIODS[p]}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={saved.fetching || limit === ''}>
              Set budget
            </button>
            <ErrorBox message={errorMessage(saved.error)} />
          </form>
        )}
      </section>
      <RunningLimitPanel />
      <section className="panel" aria-labelledby="spend-title">
        <div className="panel-head">
          <h2 id="spend-title">Spend over time</h2>
          <label>
            Days{' '}
            <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
              <option value={7}>7</option>
              <option value={14}>14</option>
              <option value={30}>30</option>
              <option value={90}>90</option>
            </select>
          </label>
          <span className="muted" data-testid="spend-total">
            {usd(total)} in {days} days
          </span>
        </div>
        {spend.fetching && !spend.data && <Loading what="spend" />}
        {spend.data && rows.length === 0 && <Empty>Nothing spent in this period.</Empty>}
        {rows.length > 0 && (
          <div className="charts">
            <StackedBars title="By model" days={dayList} series={seriesBy(rows, (r) => r.model, dayList)} />
            <StackedBars title="By template" days={dayList} series={seriesBy(rows, (r) => r.templateSlug, dayList)} />
          </div>
        )}
      </section>
    </main>
  );
}
