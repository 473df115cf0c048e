// The bare piscina anchor's task: nothing.
export default () => null;
