// The peer for `make bench`: PostGraphile v5 over the same PostgreSQL read model as clientgraph.
// What a user would set up: the Amber preset (tables as allXs, relations by foreign key) plus the
// connection-filter plugin, which is how PostGraphile users express `overdue` (status in, due date
// before, balance above). No explain, no GraphiQL, no schema watching: a production setting.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  // Amber only lets indexed columns be ordered and filtered by; the equivalent queries order by
  // issue date and filter by balance and deleted_at like clientgraph does, as PostGraphile's docs
  // suggest for such needs.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_PEER_DATABASE_URL,
      schemas: ["public"],
      pubsub: false,
      // The same pool size as the clientgraph gateway under bench (CLIENTGRAPH_DATABASE_POOL_SIZE).
      poolConfig: { max: 20 },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_PEER_PORT ?? 8812),
    graphqlPath: "/graphql",
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
