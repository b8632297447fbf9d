// Memory of compiled validators: rounds of 1,100 upsertTemplate calls, each with distinct input
// and output schemas (20 patterns), against one API; heap and RSS after a full GC per round.
// Run: node --expose-gc --import tsx bench/template-memory.ts   (issue 16 saw 281 → 676 MiB RSS)
import { startTestServer } from '../server/test/harness.ts';

const ROUNDS = Number(process.env.BENCH_TEMPLATE_ROUNDS ?? 3);
const PER_ROUND = 1100;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
function memory() {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return `heap ${mib(m.heapUsed)}, rss ${mib(m.rss)}`;
}

function template(i: number) {
  const properties = Object.fromEntries(
    Array.from({ length: 20 }, (_, k) => [
      `f${i}_${k}`,
      { type: 'string', pattern: `^[a-z]{1,${(i % 90) + 10}}$`, description: 'x'.repeat(200) },
    ]),
  );
  return {
    slug: `t${i % 50}`,
    name: 'memory',
    crew: {
      process: 'sequential',
      agents: [{ id: 'w', role: 'r', goal: 'g', backstory: 'b', model: 'm' }],
      tasks: [{ id: 'x', description: 'd', expectedOutput: 'e', agent: 'w' }],
    },
    inputSchema: { type: 'object', properties },
    outputSchema: { type: 'object', properties: { [`o${i}`]: { type: 'string' } } },
  };
}

const t = await startTestServer({ role: 'api', env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000' } });
const UPSERT = `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`;
console.log(`before: ${memory()}`);
for (let round = 1; round <= ROUNDS; round++) {
  let failed = 0;
  const start = Date.now();
  for (let i = (round - 1) * PER_ROUND; i < round * PER_ROUND; i++) if ((await t.gql(UPSERT, { input: template(i) })).errors) failed++;
  console.log(`after ${round * PER_ROUND} upserts (${failed} failed, ${((Date.now() - start) / 1000).toFixed(0)} s): ${memory()}`);
}
await t.close();
