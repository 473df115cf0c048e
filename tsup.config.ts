import { defineConfig } from 'tsup';

export default defineConfig([
	{
		entry: { index: 'src/index.ts', worker: 'src/worker-api.ts', testing: 'src/testing/index.ts' },
		format: ['esm', 'cjs'],
		dts: true,
		shims: true,
		sourcemap: true,
		clean: false,
		target: 'node20',
		// Bundling piscina (or discord.js) into dist breaks its own worker entry resolution.
		skipNodeModulesBundle: true,
		keepNames: true,
	},
	{
		// The worker host is loaded by piscina by file name; users never import it.
		entry: { 'worker-host': 'src/worker/entry.ts' },
		format: ['esm'],
		dts: false,
		sourcemap: true,
		clean: false,
		target: 'node20',
		skipNodeModulesBundle: true,
		keepNames: true,
	},
]);
