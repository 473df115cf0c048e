import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		projects: [
			{
				// Unit tests run the sources; the examples among them import the package by its name, as users do.
				resolve: {
					alias: [
						{ find: /^discord-tasks$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
						{
							find: /^discord-tasks\/worker$/,
							replacement: fileURLToPath(new URL('./src/worker-api.ts', import.meta.url)),
						},
						{
							find: /^discord-tasks\/testing$/,
							replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
						},
						{
							find: /^discord-tasks\/prometheus$/,
							replacement: fileURLToPath(new URL('./src/prometheus-api.ts', import.meta.url)),
						},
						{
							find: /^discord-tasks\/commands$/,
							replacement: fileURLToPath(new URL('./src/commands-api.ts', import.meta.url)),
						},
						{
							find: /^discord-tasks\/bullmq$/,
							replacement: fileURLToPath(new URL('./src/bullmq-api.ts', import.meta.url)),
						},
					],
				},
				test: {
					name: 'unit',
					include: ['test/unit/**/*.test.ts'],
					environment: 'node',
				},
			},
			{
				test: {
					name: 'integration',
					include: ['test/integration/**/*.test.ts'],
					environment: 'node',
					testTimeout: 30_000,
					hookTimeout: 30_000,
					// Real workers and a real gateway: keep files from competing for the 2 cores.
					fileParallelism: false,
				},
			},
			{
				test: {
					name: 'types',
					include: [],
					typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
				},
			},
		],
	},
});
