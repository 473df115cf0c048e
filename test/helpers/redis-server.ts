// The cluster tests' Redis: the package's own throw-away redis-server (discord-tasks/testing), one per test file.
export { type RedisServer, startRedisServer as startRedis } from 'discord-tasks/testing';
