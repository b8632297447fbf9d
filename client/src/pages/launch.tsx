import Form from '@rjsf/core';
import type { RJSFSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { formButtons } from '../components/form-buttons';
import { ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import { can, useConnection } from '../lib/connection';
import { errorMessage, usd } from '../lib/format';
import { Link, navigate } from '../lib/router';

const TemplateQuery = graphql(`
  query LaunchTemplate($slug: String!) {
    template(slug: $slug) {
      id
      slug
      name
      description
      requiresReview
      inputSchema
      typicalCostUsd
    }
  }
`);

const CreateJob = graphql(`
  mutation CreateJob($input: CreateJobInput!) {
    createJob(input: $input) {
      id
      state
    }
  }
`);

/** Long text fields (more than 500 characters allowed) get a text area. */
function uiSchemaFor(schema: RJSFSchema): Record<string, unknown> {
  const ui: Record<string, unknown> = { 'ui:submitButtonOptions': { norender: true } };
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (typeof prop === 'object' && prop.type === 'string' && !prop.enum && (prop.maxLength ?? Infinity) > 500)
      ui[key] = { 'ui:widget': 'textarea', 'ui:options': { rows: 5 } };
  }
  return ui;
}

/** The form generated from the template's input JSON Schema; launching creates the job. */
export function LaunchPage({ slug }: { slug: string }) {
  const canLaunch = can(useConnection().role, 'OPERATOR');
  const [{ data, fetching, error }] = useQuery({ query: TemplateQuery, variables: { slug } });
  const [created, createJob] = useMutation(CreateJob);
  const [formData, setFormData] = useState<unknown>(undefined);
  const [maxCost, setMaxCost] = useState('');
  // One key per form visit: a double click, or a retry after a lost response, makes one job.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);

  if (fetching && !data) return <Loading what="the template" />;
  if (error) return <ErrorBox message={errorMessage(error)} />;
  const template = data?.template;
  if (!template) return <ErrorBox message={`There is no template "${slug}" in this project.`} />;

  const launch = async (input: unknown) => {
    const res = await createJob({
      input: { templateSlug: slug, input, idempotencyKey, ...(maxCost ? { maxCostUsd: Number(maxCost) } : {}) },
    });
    if (res.data) navigate(`/jobs/${res.data.createJob.id}`);
  };

  return (
    <main>
      <p>
        <Link to="/templates">← Templates</Link>
      </p>
      <h1>{template.name}</h1>
      <p>{template.description}</p>
      <p className="muted">
        {template.requiresReview ? 'A reviewer approves the result before it counts.' : 'The result counts without review.'} Typical cost:{' '}
        {template.typicalCostUsd == null ? 'no finished job yet' : usd(template.typicalCostUsd)}.
      </p>
      {!canLaunch && <div className="notice">Your token is a viewer token: you can look, but launching a job needs an operator.</div>}
      <div className="panel form">
        <Form
          schema={template.inputSchema as RJSFSchema}
          uiSchema={uiSchemaFor(template.inputSchema as RJSFSchema)}
          validator={validator}
          templates={{ ButtonTemplates: formButtons }}
          formData={formData}
          onChange={(e) => setFormData(e.formData)}
          onSubmit={(e) => void launch(e.formData)}
          onError={() => {} /* the errors are shown in the form */}
          showErrorList="top"
          noHtml5Validate
          focusOnFirstError
          disabled={!canLaunch || created.fetching}
        >
          <label className="max-cost">
            Stop the job if it would cost more than (USD, optional){' '}
            <input
              type="number"
              min="0"
              step="0.01"
              value={maxCost}
              onChange={(e) => setMaxCost(e.target.value)}
              aria-label="Maximum cost in USD"
            />
          </label>
          <ErrorBox message={errorMessage(created.error)} />
          <button type="submit" disabled={!canLaunch || created.fetching}>
            {created.fetching ? 'Launching…' : 'Launch job'}
          </button>
        </Form>
      </div>
    </main>
  );
}
