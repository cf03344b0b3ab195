/** True when dist/ is missing or older than runtime/, ops/ or the build config. */
export function isStale(): boolean;
/** Builds dist/ if stale; exits the process with tsc's errors if the build fails. */
export function ensureBuilt(): void;
