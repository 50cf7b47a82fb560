import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { palettePlugin } from "./vite.palette.ts";

const page = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Everything is bundled (KaTeX CSS and fonts too): the server's CSP allows only 'self' scripts.
export default defineConfig({
  base: "/",
  plugins: [palettePlugin()],
  // `npm run dev`: the API comes from a `gradtrace serve` on port 8000.
  // The palette, the URL parameters and the op registry's data are read from the Python package
  // (backend/gradtrace/data), outside this folder.
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
    fs: { allow: [".", "../backend/gradtrace/data"] },
  },
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
