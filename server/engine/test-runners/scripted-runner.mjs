// A runner for engine tests: speaks the runner protocol and misbehaves on request.
// The behaviour comes from the job input: { script: "...", n?: number }.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { gunzipSync } from 'node:zlib';

// As the local executor passes it (a file), or as the Kubernetes executor does (gzip+base64 env).
const encoded = process.env.AUTODEV_RUNNER_SPEC;
const spec = JSON.parse(encoded ? gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8') : readFileSync(process.argv[2], 'utf8'));
const { script, n = 3 } = spec.input;
const emit = (e) => process.stdout.write(JSON.stringify({ v: 1, ...e }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const result = (text) => emit({ type: 'result', output: { text } });

// Mirrors encodeSecret in server/test/secret-forms.ts (this runner is plain JavaScript).
function encodeSecret(secret, encoding, salt) {
  switch (encoding) {
    case 'plain':
      return secret;
    case 'url':
      return encodeURIComponent(secret);
    case 'url-twice':
      return encodeURIComponent(encodeURIComponent(secret));
    case 'json':
      return JSON.stringify(secret).slice(1, -1);
    case 'json-twice':
      return JSON.stringify(JSON.stringify(secret)).slice(1, -1);
    case 'split': {
      const at = 1 + (salt % (secret.length - 1));
      return `${secret.slice(0, at)}\n    ${secret.slice(at)}`;
    }
    case 'base64':
      return Buffer.from(`${'u'.repeat(salt % 3)}:${secret}`).toString('base64');
    case 'base64url':
      return Buffer.from(`${'u'.repeat(salt % 3)}:${secret}`).toString('base64url');
    case 'hex':
      return Buffer.from(secret).toString('hex');
    default:
      throw new Error(`no encoding ${encoding}`);
  }
}

emit({ type: 'log', level: 'info', message: `attempt ${spec.attempt} running ${script}` });
switch (script) {
  case 'ok':
    emit({ type: 'task_started', task: 'write', agent: 'writer', index: 0, total: 1 });
    emit({ type: 'usage', model: 'claude-haiku-4-5', inputTokens: 1000, outputTokens: 200 });
    emit({ type: 'artifact', path: 'notes/result.md', contentType: 'text/markdown', encoding: 'utf8', content: '# Result\n' });
    emit({ type: 'task_completed', task: 'write', agent: 'writer', output: 'done' });
    console.log('a plain line that is not JSON');
    result('all good');
    break;
  case 'tools':
    emit({ type: 'task_started', task: 'write', agent: 'writer', index: 0, total: 1 });
    emit({
      type: 'tool_call',
      callId: 'call-1',
      tool: 'read_file',
      args: JSON.stringify({ path: 'README.md' }),
      agent: 'writer',
      task: 'write',
    });
    emit({
      type: 'tool_result',
      callId: 'call-1',
      tool: 'read_file',
      ok: true,
      output: '# Demo',
      durationMs: 3,
      agent: 'writer',
      task: 'write',
    });
    emit({
      type: 'tool_call',
      callId: 'call-2',
      tool: 'run_command',
      args: JSON.stringify({ command: 'npm test' }),
      agent: 'writer',
      task: 'write',
    });
    emit({
      type: 'tool_result',
      callId: 'call-2',
      tool: 'run_command',
      ok: false,
      output: 'Exit code 1.\n1 failing',
      durationMs: 1200,
      agent: 'writer',
      task: 'write',
    });
    emit({ type: 'task_completed', task: 'write', agent: 'writer', output: 'done' });
    result('used tools');
    break;
  case 'fail-twice':
    if (spec.attempt < 3) {
      emit({ type: 'error', code: 'MODEL_ERROR', message: `flaky provider on attempt ${spec.attempt}`, retryable: true });
      process.exit(1);
    }
    result(`succeeded on attempt ${spec.attempt}`);
    break;
  case 'always-fail':
    emit({ type: 'error', code: 'MODEL_ERROR', message: 'the provider is down', retryable: true });
    process.exit(1);
  // falls through (never: process.exit does not return)
  case 'invalid-event':
    emit({ type: 'usage', model: 'gpt-4o', inputTokens: -5, outputTokens: 1 });
    await sleep(5000);
    result('should not get here');
    break;
  case 'flood':
    for (let i = 0; i < 50_000; i++) process.stdout.write(`flood line ${i}\n`);
    result('flooded');
    break;
  case 'hang': {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    emit({ type: 'log', level: 'info', message: `grandchild ${child.pid}` });
    await sleep(600_000);
    break;
  }
  case 'slow': {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    emit({ type: 'log', level: 'info', message: `grandchild ${child.pid}` });
    for (let i = 0; i < 600; i++) {
      emit({ type: 'log', level: 'info', message: `tick ${i}` });
      await sleep(100);
    }
    result('slow done');
    break;
  }
  case 'slow-first':
    // The first attempt runs for a minute (long enough to be killed); later ones finish at once.
    if (spec.attempt === 1) {
      for (let i = 0; i < 600; i++) {
        emit({ type: 'log', level: 'info', message: `tick ${i}` });
        await sleep(100);
      }
    }
    result(`done on attempt ${spec.attempt}`);
    break;
  case 'ticks':
    // n log lines 20 ms apart, then a result: a job that streams for a while at no cost.
    for (let i = 0; i < n; i++) {
      emit({ type: 'log', level: 'info', message: `tick ${i}` });
      await sleep(20);
    }
    result(`${n} ticks`);
    break;
  case 'paced-usage':
    // n charges of $0.01, 100 ms apart: an attempt that is mid-way for about n/10 s.
    for (let i = 0; i < n; i++) {
      emit({ type: 'usage', model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 });
      await sleep(100);
    }
    result(`spent ${n} cents slowly`);
    break;
  case 'usage':
    // n charges of $0.01 each (10,000 input tokens of claude-haiku-4-5), then a result.
    for (let i = 0; i < n; i++) {
      emit({ type: 'usage', model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 });
      await sleep(20);
    }
    result(`spent ${n} cents`);
    break;
  case 'echo-feedback':
    emit({ type: 'log', level: 'info', message: `feedback: ${JSON.stringify(spec.feedback)}` });
    result(`attempt ${spec.attempt}`);
    break;
  case 'leak-secret': {
    // Leaks a key until an attempt is told which guardrail its predecessor broke.
    emit({ type: 'log', level: 'info', message: `feedback: ${JSON.stringify(spec.feedback)}` });
    const told = (spec.feedback?.guardrailViolations ?? []).some((v) => v.name === 'no-secrets');
    result(told ? 'clean output' : 'key AKIAABCDEFGHIJKLMNOP in the output');
    break;
  }
  case 'leak-everywhere': {
    // The secret the worker gave the runner (the model key) in everything the crew produces.
    const key = process.env.AUTODEV_MODEL_API_KEY;
    emit({ type: 'task_started', task: 'write', agent: 'writer', index: 0, total: 1 });
    emit({ type: 'task_completed', task: 'write', agent: 'writer', output: `draft using ${key}` });
    emit({ type: 'artifact', path: 'config/.env', contentType: 'text/plain', encoding: 'utf8', content: `MODEL_KEY=${key}\n` });
    emit({
      type: 'artifact',
      path: 'blob.bin',
      contentType: 'application/octet-stream',
      encoding: 'base64',
      content: Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(key), Buffer.from([0x80])]).toString('base64'),
    });
    emit({ type: 'artifact', path: 'clean.md', contentType: 'text/markdown', encoding: 'utf8', content: '# nothing secret\n' });
    result(`the key is ${key}`);
    break;
  }
  case 'replay': {
    // Replays input.lines, then input.events, then input.stderr, with {{secret:<encoding>:<salt>}} replaced
    // by the model key the worker gave the runner, encoded (see server/test/secret-forms.ts).
    const key = process.env.AUTODEV_MODEL_API_KEY;
    const fill = (v) =>
      typeof v === 'string'
        ? v.replace(/\{\{secret:([a-z0-9-]+):(\d+)\}\}/g, (_, enc, salt) => encodeSecret(key, enc, Number(salt)))
        : Array.isArray(v)
          ? v.map(fill)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [fill(k), fill(x)]))
            : v;
    // `{{nul}}` in a line: a NUL character, which a job's input cannot carry.
    for (const line of spec.input.lines ?? []) process.stdout.write(fill(line).replace(/\n/g, ' ').replaceAll('{{nul}}', '\u0000') + '\n');
    // `{ "pause": ms }` in the events: a pause before the next one.
    for (const event of spec.input.events ?? []) {
      if (typeof event.pause === 'number') await sleep(event.pause);
      else emit(fill(event));
    }
    if (spec.input.stderr) process.stderr.write(fill(spec.input.stderr) + '\n');
    process.exitCode = spec.input.events?.some((e) => e.type === 'result') ? 0 : 1;
    break;
  }
  case 'crash':
    process.stderr.write('Segmentation fault (pretend)\n');
    process.exit(139);
  // falls through (never: process.exit does not return)
  case 'env':
    emit({ type: 'log', level: 'info', message: `env: ${Object.keys(process.env).sort().join(',')}` });
    result('env listed');
    break;
  default:
    emit({ type: 'error', code: 'UNKNOWN_SCRIPT', message: `no script ${script}`, retryable: false });
    process.exit(1);
}
