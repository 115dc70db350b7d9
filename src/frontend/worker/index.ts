/**
 * @module The frontend worker: listeners, strict HTTP parsing, login pages, static files and the session proxy.
 */
export {
  runWorker,
  startWorker,
  type StartWorkerOptions,
  type StartedWorker,
} from './run-worker.js';
export {
  rotateFrontendSecret,
  loadFrontendSecret,
  frontendSecretPath,
} from './login/frontend-secret.js';
