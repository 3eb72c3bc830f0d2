/** How the worker settled a delivery: what it logs, counts and returns. */
export type IntakeOutcome = 'completed' | 'dead-lettered' | 'abandoned';
