import { availableBackends, type BackendName } from "../../backend/init-backend.js";

/**
 * The backends present on this machine, for `describe.each` in tests: one suite runs against every one of
 * them. `ORBITER_TEST_BACKENDS=wasm,cpu` narrows the list.
 */
export async function backendsForTests(): Promise<BackendName[]> {
  const present = await availableBackends();
  const wanted = process.env.ORBITER_TEST_BACKENDS?.split(",").map((name) => name.trim());
  return wanted === undefined ? present : present.filter((name) => wanted.includes(name));
}
