// Per-file declarations: exports that state a policy instead of code
// (design.md, "Per-file declarations"). A route file declares for itself; a
// folder's _middleware.ts declares for every file under it, and a nested
// declaration overrides its folder's. `kiln build` finds them, `kiln routes`
// prints them, and the entry hands their values to the runtime, which merges
// them per route once. Routes that declare nothing pay nothing.

/** Declarations a file or a whole folder can make. */
export const FOLDER_DECLARATIONS = ["csrf", "bodyLimit", "access", "cors", "headers", "csp"] as const;

export type Declarations = Partial<Record<(typeof FOLDER_DECLARATIONS)[number], unknown>>;

