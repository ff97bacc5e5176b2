export { buildSyntheticSession, chunkedBodies, randomSessionId, resourceSpans, spanIdFor, traceIdFor } from '../../../src/sink/synthetic.js';
export type { SyntheticSession, SyntheticSpan } from '../../../src/sink/synthetic.js';
