/**
 * @module Entry of the load generator's child process (`runLoadInChild`):
 * receives one {@link LoadOptions} over IPC, runs the load, sends back the
 * {@link LoadResult} and exits.
 */
import { runKeepAliveLoad, type LoadOptions } from './keep-alive-load.js';

process.once('message', (options: LoadOptions) => {
  runKeepAliveLoad(options).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) =>
      process.send!({ ok: false, message: err instanceof Error ? err.message : String(err) }, () =>
        process.exit(1),
      ),
  );
});
