import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

const CREATE_PROJECT = /* GraphQL */ `
  mutation ($input: ProjectInput!) {
    createProject(input: $input) {
      project {
        id
        slug
        name
        createdAt
      }
      adminToken {
        secret
        token {
          id
          name
          role
        }
      }
    }
  }
`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe('projects: the instance administrator creates them, each with its first ADMIN token', () => {
  it('the bootstrap token creates a project; its ADMIN token sees that project only, with the bundled templates', async () => {
    const ourJob = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;

    const res = await t.gql(CREATE_PROJECT, { input: { slug: 'payments', name: '  Payments team ' } });
    expect(res.errors).toBeUndefined();
    const created = res.data.createProject;
    expect(created.project).toMatchObject({ slug: 'payments', name: 'Payments team' });
    expect(created.adminToken.token).toMatchObject({ name: 'payments admin', role: 'ADMIN' });
    const theirs = created.adminToken.secret;

    const seen = await t.gql(
      `{ viewer { role project { id slug } } templates(first: 100) { edges { node { slug } } } jobs(first: 100) { edges { node { id } } } apiTokens { id } }`,
      {},
      theirs,
    );
    expect(seen.errors).toBeUndefined();
    expect(seen.data.viewer).toEqual({ role: 'ADMIN', project: { id: created.project.id, slug: 'payments' } });
    expect(seen.data.templates.edges.map((e: any) => e.node.slug)).toContain('triage-bug');
    expect(seen.data.jobs.edges).toEqual([]);
    expect(seen.data.apiTokens.map((x: any) => x.id)).toEqual([created.adminToken.token.id]);
    expect((await t.gql(`query($id: ID!) { job(id: $id) { id } }`, { id: ourJob }, theirs)).data.job).toBeNull();

    // It works in its own project: a job there is not ours.
    const theirJob = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, theirs);
    expect(theirJob.errors).toBeUndefined();
    expect((await t.gql(`query($id: ID!) { job(id: $id) { id } }`, { id: theirJob.data.createJob.id })).data.job).toBeNull();

    const listed = await t.gql(`{ projects { slug name } }`);
    expect(listed.data.projects.map((p: any) => p.slug)).toEqual(['default', 'payments']);
  });

  it("the new project's ADMIN is not an instance administrator: it may neither list nor create projects", async () => {
    const theirs = (await t.gql(CREATE_PROJECT, { input: { slug: 'tenant-b', name: 'Tenant B' } })).data.createProject.adminToken.secret;
    for (const query of [
      `{ projects { slug } }`,
      `mutation { createProject(input: { slug: "tenant-c", name: "C" }) { project { id } } }`,
    ]) {
      const res = await t.gql(query, {}, theirs);
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.errors?.[0].message).toMatch(/instance administrator/);
      expect(res.data).toBeNull();
    }
    const slugs = (await t.gql(`{ projects { slug } }`)).data.projects.map((p: any) => p.slug);
    expect(slugs).not.toContain('tenant-c');
  });

  it('a taken slug is CONFLICT and a malformed one BAD_USER_INPUT, and neither leaves a project or token behind', async () => {
    const count = async () =>
      (
        await t.app.services.pool.query(
          `SELECT (SELECT count(*) FROM "Project")::int AS projects, (SELECT count(*) FROM "ApiToken")::int AS tokens`,
        )
      ).rows[0];
    await t.gql(CREATE_PROJECT, { input: { slug: 'taken', name: 'Taken' } });
    const before = await count();
    const dup = await t.gql(CREATE_PROJECT, { input: { slug: 'taken', name: 'Again' } });
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'slug' });
    expect(dup.errors?.[0].message).toMatch(/already exists/);
    for (const [slug, name, field] of [
      ['Upper', 'x', 'slug'],
      ['-lead', 'x', 'slug'],
      ['trail-', 'x', 'slug'],
      ['a'.repeat(49), 'x', 'slug'],
      ['ok-slug', '   ', 'name'],
      ['ok-slug', 'n'.repeat(101), 'name'],
    ]) {
      const res = await t.gql(CREATE_PROJECT, { input: { slug, name } });
      expect(res.errors?.[0].extensions, `${slug} / ${name.length}`).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await count()).toEqual(before);
  });

  it('two concurrent creations of one slug: exactly one project, one token, one CONFLICT', async () => {
    const results = await Promise.all([1, 2, 3].map(() => t.gql(CREATE_PROJECT, { input: { slug: 'racy', name: 'Racy' } })));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT')).toHaveLength(2);
    const { rows } = await t.app.services.pool.query(
      `SELECT count(*)::int AS n FROM "ApiToken" a JOIN "Project" p ON p.id = a."projectId" WHERE p.slug = 'racy'`,
    );
    expect(rows[0].n).toBe(1);
  });
});
