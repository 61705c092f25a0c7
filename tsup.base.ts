import { defineConfig, type Options } from "tsup";

/**
 * The build of every published package: ES modules for Node 20 with declarations and source maps. Declarations
 * are built without the `@orbiter/source` condition, so they refer to sibling packages' published types.
 */
export function packageBuild(entry: string[]): Options | Options[] {
  return defineConfig({
    entry,
    format: ["esm"],
    target: "node20",
    platform: "node",
    // stripInternal: members documented `@internal` are left out of the published declarations.
    dts: { compilerOptions: { composite: false, customConditions: [], stripInternal: true } },
    sourcemap: true,
    clean: true,
    treeshake: true,
  }) as Options | Options[];
}
