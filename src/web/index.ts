/**
 * @module The public entry of Vesper's Tornado-style web framework (`vesper/web`).
 * Everything an application uses is exported from here.
 */
