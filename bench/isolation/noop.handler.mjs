// The no-op handler module of bench/isolation.ts (plain JavaScript: no TypeScript loader involved).
export default function noop() {}
