import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const page = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Everything is bundled (KaTeX CSS and fonts too): the server's CSP allows only 'self' scripts.
export default defineConfig({
  base: "/",
  // `npm run dev`: the API comes from a `gradtrace serve` on port 8000.
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { main: page("index.html"), embed: page("embed/index.html") },
    },
  },
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts"],
  },
});
