// The one Node API a test reads files with (the project has no @types/node): a stylesheet's text,
// for tests/explain-contrast.test.ts.
declare module "node:fs" {
  export function readFileSync(path: URL | string, encoding: "utf8"): string;
}
