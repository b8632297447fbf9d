// Strict validation of Kubernetes objects against the OpenAPI models that @kubernetes/client-node
// generates from the Kubernetes API (its attribute maps give each field's name and type, its type
// declarations say which fields are required). Unknown fields, wrong types and missing required
// fields are errors, as `kubectl apply --validate=strict` would report them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

type Attribute = { name: string; baseName: string; type: string; format: string };
type Model = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, Model | undefined>;
const modelsDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');

/** The Kubernetes version the models were generated from (their header says so). */
export const MODELS_VERSION = /OpenAPI spec version: (v[\d.]+)/.exec(readFileSync(path.join(modelsDir, 'V1Pod.d.ts'), 'utf8'))![1];

const requiredCache = new Map<string, Set<string>>();
/** Fields declared without `?` in the model's type declaration. */
function required(type: string): Set<string> {
  let fields = requiredCache.get(type);
  if (!fields) {
    const source = readFileSync(path.join(modelsDir, `${type}.d.ts`), 'utf8');
    fields = new Set([...source.matchAll(/^\s+'([\w$]+)': /gm)].map((m) => m[1]));
    requiredCache.set(type, fields);
  }
  return fields;
}

/** `apps/v1` + `Deployment` → V1Deployment; `autoscaling/v2` + `HorizontalPodAutoscaler` → V2HorizontalPodAutoscaler. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

/** Every problem found in `value` as the model `type`, each with its path. */
export function validate(value: unknown, type: string, at = ''): string[] {
  const where = at || '(root)';
  if (type === 'any' || type === 'object') return [];
  if (type.startsWith('Array<')) {
    if (!Array.isArray(value)) return [`${where}: expected an array, got ${JSON.stringify(value)}`];
    const item = type.slice(6, -1);
    return value.flatMap((v, i) => validate(v, item, `${at}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return [`${where}: expected a map, got ${JSON.stringify(value)}`];
    return Object.entries(value).flatMap(([k, v]) => validate(v, map[1], `${at}.${k}`));
  }
  if (type === 'string' || type === 'Date')
    return typeof value === 'string' ? [] : [`${where}: expected a string, got ${JSON.stringify(value)}`];
  if (type === 'number') return typeof value === 'number' ? [] : [`${where}: expected a number, got ${JSON.stringify(value)}`];
  if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${where}: expected true or false, got ${JSON.stringify(value)}`];
  if (type === 'IntOrString')
    return ['number', 'string'].includes(typeof value) ? [] : [`${where}: expected a number or a string, got ${JSON.stringify(value)}`];
  const model = models[type];
  if (!model?.getAttributeTypeMap) return [`${where}: no model ${type} in @kubernetes/client-node`];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${where}: expected an object (${type}), got ${JSON.stringify(value)}`];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (!attribute) problems.push(`${at}.${key}: unknown field in ${type}`);
    else if (v !== null) problems.push(...validate(v, attribute.type, `${at}.${key}`));
  }
  for (const key of required(type)) if (!(key in value)) problems.push(`${at}.${key}: required in ${type}, missing`);
  return problems;
}

/** Validates a whole object by its own apiVersion and kind. */
export function validateObject(o: { apiVersion?: string; kind?: string }): string[] {
  if (!o.apiVersion || !o.kind) return ['(root): apiVersion and kind are required'];
  return validate(o, modelName(o.apiVersion, o.kind));
}
