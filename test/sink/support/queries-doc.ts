/** The queries of docs/queries.md, by their `<!-- query: name -->` marker: what the doc shows is what the tests run. */
import { readFileSync } from 'node:fs';

export interface DocQuery {
  sql: string;
  /** The heading says "(indexed)": it must plan without a sequential scan of a partition. */
  indexed: boolean;
}

export function documentedQueries(): Map<string, DocQuery> {
  const doc = readFileSync(new URL('../../../docs/queries.md', import.meta.url), 'utf8');
  const queries = new Map<string, DocQuery>();
  for (const m of doc.matchAll(/### ([^\n]+)\n(?:[^\n]*\n)*?<!-- query: ([a-z0-9-]+) -->\n```sql\n([\s\S]*?)```/g)) {
    queries.set(m[2]!, { sql: m[3]!, indexed: m[1]!.includes('(indexed)') });
  }
  return queries;
}
