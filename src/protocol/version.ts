/**
 * Version of the main ↔ worker contract. Bumped whenever a message shape in `src/protocol` changes
 * incompatibly. Every iteration request carries it and the worker host refuses a mismatch with
 * `ERR_PROTOCOL_VERSION_MISMATCH` (which matters when a user points `workerPath` at a host built from another
 * release): the one version check, in one place.
 *
 * 2: the host channel is a closed set of messages ({@link HostCall}), invocation ids are unguessable strings.
 * 3: the task travels as a {@link TaskKey}, the token is a random integer, a body that returned nothing is
 * answered with `null`, and the hellos carry no version.
 */
export const PROTOCOL_VERSION = 3;
