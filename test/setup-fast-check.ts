import fc from 'fast-check';

/**
 * Property tests draw from one fixed seed, so a CI run is reproducible and a change is judged on
 * the same random layers as the run before it. FXPQ_FC_SEED=random explores fresh cases (fast-check
 * prints the seed of any counterexample); FXPQ_FC_SEED=N replays one.
 */
const env = process.env.FXPQ_FC_SEED;
if (env !== 'random') {
  const seed = env === undefined ? 20261208 : Number(env);
  if (!Number.isInteger(seed)) throw new Error(`FXPQ_FC_SEED must be an integer or "random", not ${JSON.stringify(env)}`);
  fc.configureGlobal({ seed });
}
