/** Reads a list of the emulator's resources: `{ Databases: [...] }` or `{ DocumentCollections: [...] }`. */
type ReadList = (path: string) => Promise<{ status: number; body: unknown }>;

interface Resource {
  id: string;
  _rid: string;
}

/**
 * Maps the database and container segments of a Cosmos path to names, whichever the client sent:
 * names (the JS SDK) or resource ids (the .NET SDK, once it has read a container). A segment
 * is a name when a resource of that name exists, else a resource id when one has it; anything
 * else resolves to nothing (404). Ids are looked up on a miss only and then cached, since a
 * resource id never changes meaning.
 */
export class CosmosResourceNames {
  private readonly databases = new Map<string, string>();
  private readonly containers = new Map<string, string>();

  constructor(private readonly readList: ReadList) {}

  /**
   * Names for RBAC. A segment that is neither a name nor a resource id stays as sent: it names
   * nothing that exists, so the decision covers nothing real and the emulator answers 404.
   */
  async resolve(segments: readonly string[]): Promise<string[]> {
    const named = [...segments];
    if (named[0] !== 'dbs' || named[1] === undefined) return named;
    const database = (await this.databaseName(named[1])) ?? named[1];
    named[1] = database;
    if (named[2] === 'colls' && named[3] !== undefined) {
      named[3] = (await this.containerName(database, named[3])) ?? named[3];
    }
    return named;
  }

  private async databaseName(segment: string): Promise<string | undefined> {
    const cached = this.databases.get(segment);
    if (cached) return cached;
    const found = await this.find('/dbs', 'Databases', segment);
    if (found) this.databases.set(segment, found);
    return found;
  }

  private async containerName(database: string, segment: string): Promise<string | undefined> {
    const key = `${database}/${segment}`;
    const cached = this.containers.get(key);
    if (cached) return cached;
    const found = await this.find(
      `/dbs/${encodeURIComponent(database)}/colls`,
      'DocumentCollections',
      segment,
    );
    if (found) this.containers.set(key, found);
    return found;
  }

  private async find(path: string, key: string, segment: string): Promise<string | undefined> {
    const { status, body } = await this.readList(path);
    if (status !== 200) return undefined;
    const list = ((body as Record<string, unknown>)?.[key] as Resource[] | undefined) ?? [];
    return (list.find((r) => r.id === segment) ?? list.find((r) => r._rid === segment))?.id;
  }
}
