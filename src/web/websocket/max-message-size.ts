/**
 * @module The default WebSocket message size limit, shared by the handler and the client.
 */

/** The default `maxMessageSize`, as Tornado's: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024;
