import {
	ErrorCode,
	isTaskDefinition,
	type ServiceMap,
	type TaskDefinition,
	type TaskKey,
	TaskModuleError,
	type TaskRef,
} from '../protocol/index.js';

type AnyTask = TaskDefinition<unknown[], unknown, ServiceMap>;

const TYPESCRIPT_FILE = /\.(?:ts|mts|cts|tsx)$/;

/**
 * Imports a task module. Worker threads on Node 20 cannot load TypeScript, and tsx does not register its loader
 * in workers before Node 22.22 / 24.11 (so `execArgv: ['--import', 'tsx']` is not enough there). For a `.ts`
 * module that fails that way, the module is loaded through tsx's API when tsx is installed: `.ts` tasks work in
 * development with nothing but `npm install -D tsx`. Production code should point loops at built `.js` files.
 */
async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
	try {
		return (await import(moduleUrl)) as Record<string, unknown>;
	} catch (error) {
		const code = (error as { code?: unknown } | null)?.code;
		if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TYPESCRIPT_FILE.test(new URL(moduleUrl).pathname)) throw error;
		let tsx: { tsImport: (specifier: string, parentUrl: string) => Promise<unknown> };
		try {
			tsx = await import('tsx/esm/api');
		} catch {
			throw new TaskModuleError(
				`Task module ${moduleUrl} is TypeScript, which worker threads cannot load on Node ${process.versions.node}: point the loop at the built .js file, or install tsx (npm install -D tsx) to load .ts tasks in development`,
				{ moduleUrl, code: ErrorCode.TaskModuleInvalid, cause: error },
			);
		}
		return (await tsx.tsImport(moduleUrl, moduleUrl)) as Record<string, unknown>;
	}
}

/**
 * Loads task modules once per worker and caches the task by its {@link TaskKey} (module URL and export name). A
 * failed load is not cached: the next iteration tries again (the file may be mid-rebuild).
 */
export class TaskRegistry {
	readonly #tasks = new Map<string, Promise<AnyTask>>();
	/** Tasks whose module has loaded, for a lookup that needs no await. */
	readonly #loaded = new Map<string, AnyTask>();

	/** The task `key` names if its module has loaded already, else `undefined`. */
	loaded(key: TaskKey | undefined): AnyTask | undefined {
		return key === undefined ? undefined : this.#loaded.get(key);
	}

	/**
	 * The task `key` names.
	 * @throws {@link TaskModuleError} if the module cannot be imported or the export is not a task.
	 */
	load(key: TaskKey, ref: TaskRef): Promise<AnyTask> {
		let task = this.#tasks.get(key);
		if (!task) {
			task = TaskRegistry.#import(ref);
			this.#tasks.set(key, task);
			task.then(
				(loaded) => this.#loaded.set(key, loaded),
				() => this.#tasks.delete(key),
			);
		}
		return task;
	}

	static async #import(ref: TaskRef): Promise<AnyTask> {
		let module: Record<string, unknown>;
		try {
			module = await importModule(ref.moduleUrl);
		} catch (error) {
			if (error instanceof TaskModuleError) throw error;
			const notFound = (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
			throw new TaskModuleError(
				notFound
					? `Task module ${ref.moduleUrl} (or a module it imports) was not found`
					: `Task module ${ref.moduleUrl} failed to load: ${(error as Error)?.message ?? String(error)}`,
				{
					moduleUrl: ref.moduleUrl,
					code: notFound ? ErrorCode.TaskModuleNotFound : ErrorCode.TaskModuleInvalid,
					cause: error,
				},
			);
		}
		// A CJS task module imported from ESM puts its exports on `default`.
		const exported =
			module[ref.exportName] ?? (module['default'] as Record<string, unknown> | undefined)?.[ref.exportName];
		if (!isTaskDefinition(exported)) {
			throw new TaskModuleError(
				`Task module ${ref.moduleUrl} has no task as its ${ref.exportName === 'default' ? 'default export' : `export '${ref.exportName}'`}: wrap the body with defineTask() from 'discord-tasks/worker' (found ${exported === undefined ? 'nothing' : typeof exported})`,
				{ moduleUrl: ref.moduleUrl, code: ErrorCode.TaskModuleInvalid },
			);
		}
		return exported;
	}
}
