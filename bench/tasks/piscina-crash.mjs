// The bare piscina anchor of the crash benchmark: the same rule as crash.mjs, without discord-tasks.
let runs = 0;

export default ({ crashAt }) => {
	runs += 1;
	if (runs === crashAt) process.exit(3);
	return null;
};
