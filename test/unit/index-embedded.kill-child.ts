// Child process for the SIGKILL test in index-embedded.test.ts: writes batches of 10 points forever and
// prints "acked N" after each batch returns, until the parent kills it with SIGKILL.
import { uuidV5 } from '../../src/domain/ids.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';

const dir = process.argv[2];
const dim = 32;
const index = await createEmbeddedIndex(dir);
await index.ensureCollection('killed', dim);
for (let batch = 0; ; batch++) {
  const points = Array.from({ length: 10 }, (_, i) => {
    const n = batch * 10 + i;
    const vector = new Float32Array(dim);
    vector[n % dim] = 1;
    return {
      id: uuidV5(`kill-${n}`),
      vector,
      payload: {
        documentId: `doc_${batch}`,
        contentHash: 'h',
        chunkIndex: i,
        chunkCount: 10,
        text: 'x'.repeat(200 + (n % 50)),
        start: 0,
        end: 1,
        title: 't',
        source: 's',
        type: 'text' as const,
        acl: [],
      },
    };
  });
  await index.upsert('killed', points);
  process.stdout.write(`acked ${batch + 1}\n`);
}
