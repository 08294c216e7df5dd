import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Db } from '../../coordinator/store/db.js';
import { tempDir } from './harness.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe('coordinator store', () => {
  it('store - within undoes only its own writes and after-commit effects; the enclosing write commits the rest', async () => {
    const dir = tempDir('npf-store-within-');
    const store = new Db(dir);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    store.db.exec('CREATE TABLE t (v TEXT)');
    const effects: string[] = [];
    await store.write(() => {
      store.run('INSERT INTO t (v) VALUES (?)', 'kept-1');
      store.within(() => {
        store.run('INSERT INTO t (v) VALUES (?)', 'kept-2');
        store.afterCommit(() => effects.push('kept-2'));
      });
      expect(() =>
        store.within(() => {
          store.run('INSERT INTO t (v) VALUES (?)', 'undone');
          store.afterCommit(() => effects.push('undone'));
          throw new Error('refused');
        }),
      ).toThrow('refused');
      store.afterCommit(() => effects.push('outer'));
    });
    expect(store.all<{ v: string }>('SELECT v FROM t ORDER BY rowid').map((r) => r.v)).toEqual(['kept-1', 'kept-2']);
    expect(effects).toEqual(['kept-2', 'outer']);
    expect(() => store.within(() => 1)).toThrow(/inside Db.write/);
  });
});
