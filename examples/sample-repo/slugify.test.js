import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from './slugify.js';

test('lowercases and joins words with dashes', () => {
  assert.equal(slugify('Hello World'), 'hello-world');
});

test('collapses runs of spaces and punctuation into one dash', () => {
  assert.equal(slugify('Hello,   World!'), 'hello-world');
});
