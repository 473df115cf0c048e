/**
 * Version of the main ↔ worker contract. Bumped whenever a message shape in `src/protocol` changes
 * incompatibly; the worker host reports it in its ready handshake and the main side refuses a mismatch
 * (which matters when a user points `workerPath` at a host built from another release).
 *
 * 2: the host channel is a closed set of messages ({@link HostCall}), invocation ids are unguessable strings.
 */
export const PROTOCOL_VERSION = 2;
