import { defineConfig } from 'tsup';

// scripts/build-if-stale.mjs (npm start) builds without declarations: running the demo does not need them.
const dts = process.env['DISCORD_TASKS_SKIP_DTS'] !== '1';

export default defineConfig([
	{
		entry: {
			index: 'src/index.ts',
			worker: 'src/worker-api.ts',
			testing: 'src/testing/index.ts',
			prometheus: 'src/prometheus-api.ts',
			commands: 'src/commands-api.ts',
			bullmq: 'src/bullmq-api.ts',
		},
		format: ['esm', 'cjs'],
		dts,
		shims: true,
		sourcemap: true,
		clean: false,
		target: 'node20',
		// Bundling piscina (or discord.js) into dist breaks its own worker entry resolution.
		skipNodeModulesBundle: true,
		// No keepNames: nothing is minified, so names survive anyway, and keepNames wraps every closure created
		// on a hot path in a __name() call (measured at 2% of a main-thread loop's time).
	},
	{
		// The hosts are loaded by file name; users never import them. They are CommonJS: piscina loads its worker
		// file with require(), and an ES module there goes through require(esm), which aborts the whole process
		// on Node 20 when a worker is terminated while it loads. Everything they use but tsx is bundled in: a
		// replacement worker (after a crash) loads one file before its first iteration.
		entry: { 'worker-host': 'src/worker/entry.ts', 'process-host': 'src/worker/process-entry.ts' },
		format: ['cjs'],
		dts: false,
		sourcemap: true,
		clean: false,
		target: 'node20',
		// Only tsx is left outside, loaded for `.ts` tasks in development.
		skipNodeModulesBundle: true,
	},
]);
