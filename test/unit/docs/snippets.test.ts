import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

// Every ```ts and ```js block of README.md and docs/*.md is compiled against the sources, as a user would paste it
// into a TypeScript project (js blocks as checked JavaScript). Names a snippet uses without defining them (the
// bot's `client`, a `channelId`) are declared in test/unit/docs/snippet-context.d.ts.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const contextFile = fileURLToPath(new URL('./snippet-context.d.ts', import.meta.url));
const documents = ['README.md', ...readdirSync(`${root}docs`).map((name) => `docs/${name}`)].filter((name) =>
	name.endsWith('.md'),
);

interface Snippet {
	readonly document: string;
	/** 1-based line of the snippet's first code line in its document. */
	readonly line: number;
	readonly lang: 'ts' | 'js';
	readonly code: string;
}

/** The ```ts and ```js blocks of a Markdown text (also indented ones, in lists), without their indentation. */
function extractSnippets(document: string, text: string): Snippet[] {
	const snippets: Snippet[] = [];
	const lines = text.split('\n');
	for (let index = 0; index < lines.length; index++) {
		const open = /^(\s*)```(ts|js)\s*$/.exec(lines[index] ?? '');
		if (!open) continue;
		const indent = open[1] ?? '';
		const body: string[] = [];
		let end = index + 1;
		while (end < lines.length && (lines[end] ?? '').trim() !== '```') {
			const line = lines[end] ?? '';
			body.push(line.startsWith(indent) ? line.slice(indent.length) : line);
			end++;
		}
		snippets.push({ document, line: index + 2, lang: open[2] as 'ts' | 'js', code: `${body.join('\n')}\n` });
		index = end;
	}
	return snippets;
}

const snippets = documents.flatMap((document) => extractSnippets(document, readFileSync(`${root}${document}`, 'utf8')));

/**
 * Virtual path of a snippet: inside the repository, so `discord.js` and the tsconfig paths resolve as in a test. A
 * snippet whose first line names its file (`// tasks/leaderboard.ts`, `// bot.cjs`) gets that name, so the other
 * snippets of its document can import it and a `.cjs` file is compiled as CommonJS.
 */
function snippetPath(snippet: Snippet): string {
	const folder = `${root}test/unit/docs/.snippets/${snippet.document.replace(/[^a-z0-9]+/gi, '-')}`;
	const named = /^\/\/ ([\w./-]+\.(?:[cm]?[jt]s))\b/.exec(snippet.code);
	return named?.[1] ? `${folder}/${named[1]}` : `${folder}/line-${snippet.line}.${snippet.lang}`;
}

/** Compiles every snippet in one program; returns the messages per snippet, with document line numbers. */
function compileSnippets(): Map<Snippet, string[]> {
	const config = ts.getParsedCommandLineOfConfigFile(
		`${root}tsconfig.json`,
		{},
		{
			...ts.sys,
			onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
				throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
			},
		},
	);
	if (!config) throw new Error('tsconfig.json could not be read');
	const options: ts.CompilerOptions = {
		...config.options,
		allowJs: true,
		checkJs: true,
		noEmit: true,
		// Snippets show one call or one option; the values they create are often not used again.
		noUnusedLocals: false,
		noUnusedParameters: false,
		// A style option of this repository that users' projects rarely set (`process.env.DISCORD_TOKEN`).
		noPropertyAccessFromIndexSignature: false,
		types: ['node', 'vitest/globals'],
	};
	const sources = new Map<string, Snippet>();
	for (const snippet of snippets) sources.set(snippetPath(snippet), snippet);
	// Every snippet is a module of its own (`export {}`), so two snippets may declare the same names.
	const text = (snippet: Snippet) => `${snippet.code}export {};\n`;
	const host = ts.createCompilerHost(options);
	const { fileExists, readFile, getSourceFile, directoryExists } = host;
	host.fileExists = (path) => sources.has(path) || fileExists.call(host, path);
	host.directoryExists = (path) =>
		[...sources.keys()].some((source) => source.startsWith(`${path}/`)) || (directoryExists?.call(host, path) ?? true);
	host.readFile = (path) => {
		const snippet = sources.get(path);
		return snippet ? text(snippet) : readFile.call(host, path);
	};
	host.getSourceFile = (path, language, ...rest) => {
		const snippet = sources.get(path);
		return snippet
			? ts.createSourceFile(path, text(snippet), language, true)
			: getSourceFile.call(host, path, language, ...rest);
	};
	const program = ts.createProgram([...sources.keys(), contextFile], options, host);
	const messages = new Map<Snippet, string[]>();
	for (const [path, snippet] of sources) {
		const file = program.getSourceFile(path);
		if (!file) throw new Error(`${path} was not compiled`);
		const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
		messages.set(
			snippet,
			diagnostics.map((diagnostic) => {
				const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
				const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
				return `${snippet.document}:${snippet.line + line}: TS${diagnostic.code} ${message}`;
			}),
		);
	}
	return messages;
}

/**
 * A snippet with the type error of issue #9 (`error` is `unknown`), compiled with the others: it shows that the
 * check reports errors, at the right document line.
 */
const broken: Snippet = {
	document: 'sentinel.md',
	line: 10,
	lang: 'js',
	code: "import { LoopController } from 'discord-tasks';\nnew LoopController().on('iterationFailed', (loop, { error }) => error.message);\n",
};

let compiled: Map<Snippet, string[]> | undefined;
/** One program for every snippet (a few seconds), shared by the tests below. */
function messages(): Map<Snippet, string[]> {
	snippets.push(broken);
	try {
		compiled ??= compileSnippets();
	} finally {
		snippets.pop();
	}
	return compiled;
}

describe('the snippets of README.md and docs/', () => {
	test('are found: every document with code has some', () => {
		expect(snippets.filter((snippet) => snippet.document === 'README.md').length).toBeGreaterThan(5);
		expect(snippets.filter((snippet) => snippet.document === 'docs/testing.md').length).toBeGreaterThan(5);
	});

	test('compile as TypeScript (js blocks as checked JavaScript)', { timeout: 60_000 }, () => {
		const errors = snippets.flatMap((snippet) => messages().get(snippet) ?? ['not compiled']);
		expect(errors).toEqual([]);
	});

	test('a snippet with a type error is reported with its document line', { timeout: 60_000 }, () => {
		expect(messages().get(broken)).toEqual([
			expect.stringMatching(/^sentinel\.md:11: TS18046 'error' is of type 'unknown'/),
		]);
	});
});

describe('the tested examples of docs/testing.md', () => {
	test.each([['test/unit/examples/loop-fake-timers.test.ts'], ['test/node-test/loop-mock-timers.test.ts']])(
		'%s is in docs/testing.md verbatim',
		(file) => {
			const docs = readFileSync(`${root}docs/testing.md`, 'utf8');
			expect(docs).toContain(`\`\`\`ts\n${readFileSync(`${root}${file}`, 'utf8')}\`\`\``);
		},
	);
});
