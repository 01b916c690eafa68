// Writes the two npm package directories packaging/build.sh packs:
//   OUT/platform: @agent-runtime-kit/PLATFORM, the binary alone, with `os`/`cpu` so npm installs
//                 only the one matching the machine (esbuild's and @openai/codex's scheme);
//   OUT/main:     agent-runtime-kit, the TypeScript client's sources (compiled by build.sh), the
//                 `agent-runtime-kit` bin launcher, and every platform package as optionalDependency.
// Usage: node write-packages.mjs REPO OUT VERSION PLATFORM BINARY
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [repo, out, version, platform, binary] = process.argv.slice(2);
// Every platform the release workflow builds (.github/workflows/release.yml). Linux packages hold a
// static musl binary in a release, so one package serves glibc and musl systems alike.
const PLATFORMS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"];
if (!PLATFORMS.includes(platform)) throw new Error(`unknown platform ${platform}`);
const [os, cpu] = platform.split("-");
const json = (path, value) => writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
const client = JSON.parse(readFileSync(join(repo, "clients/typescript/package.json"), "utf8"));
const common = {
  version,
  license: client.license,
};

const plat = join(out, "platform");
mkdirSync(join(plat, "bin"), { recursive: true });
copyFileSync(binary, join(plat, "bin/agent-runtime-kit"));
chmodSync(join(plat, "bin/agent-runtime-kit"), 0o755);
json(join(plat, "package.json"), {
  name: `@agent-runtime-kit/${platform}`,
  description: `The agent-runtime-kit binary for ${platform} (installed by the agent-runtime-kit package)`,
  ...common,
  os: [os],
  cpu: [cpu],
  files: ["bin"],
  preferUnplugged: true,
});
writeFileSync(join(plat, "README.md"), `# @agent-runtime-kit/${platform}\n\nThe \`agent-runtime-kit\` binary for ${platform}. Install \`agent-runtime-kit\`, not this package: it selects the right one.\n`);

const main = join(out, "main");
mkdirSync(join(main, "bin"), { recursive: true });
cpSync(join(repo, "clients/typescript/src"), join(main, "src"), { recursive: true });
copyFileSync(join(repo, "clients/typescript/README.md"), join(main, "README.md"));
copyFileSync(join(repo, "packaging/npm/agent-runtime-kit.js"), join(main, "bin/agent-runtime-kit.js"));
chmodSync(join(main, "bin/agent-runtime-kit.js"), 0o755);
const { devDependencies: _dev, scripts: _scripts, ...manifest } = client;
json(join(main, "package.json"), {
  ...manifest,
  ...common,
  bin: { "agent-runtime-kit": "bin/agent-runtime-kit.js" },
  files: ["dist/src", "src", "bin"],
  optionalDependencies: Object.fromEntries(PLATFORMS.map((p) => [`@agent-runtime-kit/${p}`, version])),
});
json(join(main, "tsconfig.json"), {
  extends: join(repo, "clients/typescript/tsconfig.json"),
  compilerOptions: {
    rootDir: ".",
    outDir: "dist",
    typeRoots: [join(repo, "clients/typescript/node_modules/@types")],
  },
  include: ["src"],
});
