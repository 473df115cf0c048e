/** The longest delay `setTimeout` honours; a longer one fires after 1 ms. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * `setTimeout` for any finite delay: past {@link MAX_TIMER_DELAY_MS} it waits in chunks, where a raw `setTimeout`
 * would fire after 1 ms (a `timeoutMs` of 2^31 would abort every iteration at once).
 * @returns A function that clears the timer.
 */
export function setLongTimeout(callback: () => void, ms: number): () => void {
	let timer: ReturnType<typeof setTimeout>;
	const deadline = Date.now() + ms;
	const arm = (remaining: number) => {
		timer = setTimeout(
			remaining > MAX_TIMER_DELAY_MS ? () => arm(deadline - Date.now()) : callback,
			Math.min(Math.max(remaining, 0), MAX_TIMER_DELAY_MS),
		);
	};
	arm(ms);
	return () => clearTimeout(timer);
}
