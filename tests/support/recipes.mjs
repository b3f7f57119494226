// The recipes of docs/RECIPES.md, read once, so the e2e tests run their blocks as written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './worker.mjs';

const recipes = readFileSync(join(ROOT, 'docs', 'RECIPES.md'), 'utf8');

/** The fenced block of `lang` after `heading` in docs/RECIPES.md, the `nth` one (0-based). */
export function recipeBlock(heading, lang, nth = 0) {
  const at = recipes.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `docs/RECIPES.md has "${heading}"`);
  const end = recipes.indexOf('\n## ', at + heading.length + 2);
  const section = recipes.slice(at, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))];
  assert.ok(blocks[nth], `a ${lang} block #${nth} after "${heading}"`);
  return blocks[nth][1];
}
