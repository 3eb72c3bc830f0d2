// Types of scripts/render-compose.mjs, for the tests and the service generator that import it.
import type { IdentitiesFile } from '@wi/identities';

/** Where docker-compose.yml goes in a checkout (default: this one). */
export function composePath(checkout?: string): string;

/** The text of docker-compose.yml for a declaration, formatted as Prettier writes it. */
export function renderCompose(file: IdentitiesFile): Promise<string>;
