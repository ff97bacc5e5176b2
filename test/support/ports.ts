/** A TCP port free on 127.0.0.1 for another process to listen on (src/shared/free-port.ts says why not listen(0)). */
export { freePort } from '../../src/shared/free-port.js';
