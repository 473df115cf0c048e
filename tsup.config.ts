import { defineConfig } from 'tsup';

// scripts/build-if-stale.mjs (npm start) builds without declarations: running the demo does not need them.
const dts = process.env['DISCORD_TASKS_SKIP_DTS'] !== '1';

export default defineConfig([
	{
		entry: { index: 'src/index.ts', worker: 'src/worker-api.ts', testing: 'src/testing/index.ts' },
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
		// The worker host is loaded by piscina by file name; users never import it. comlink is bundled into it: a
		// replacement worker (after a crash) then loads one file less before its first iteration (measured ~8 ms).
		entry: { 'worker-host': 'src/worker/entry.ts' },
		noExternal: ['comlink'],
		format: ['esm'],
		dts: false,
		sourcemap: true,
		clean: false,
		target: 'node20',
		skipNodeModulesBundle: true,
	},
]);
