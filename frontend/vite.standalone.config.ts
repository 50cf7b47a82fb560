import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { palettePlugin } from "./vite.palette.ts";

// The standalone page's script, as one IIFE file with one CSS file beside it
// (dist/standalone/standalone.js, standalone.css), which backend/gradtrace/standalone.py inlines
// into a single offline HTML file. Fonts (KaTeX's) are inlined as data: URLs, woff2 only: every
// browser that runs the page reads woff2, and the file stays small.
const woff2Only: Plugin = {
  name: "gradtrace-katex-woff2-only",
  enforce: "pre",
  transform(code, id) {
    if (!/katex(\.min)?\.css$/.test(id.split("?")[0])) return null;
    return code.replace(/,\s*url\([^)]*\.(?:woff|ttf)\)\s*format\("(?:woff|truetype)"\)/g, "");
  },
};

export default defineConfig({
  plugins: [woff2Only, palettePlugin()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "dist/standalone",
    emptyOutDir: true,
    assetsInlineLimit: () => true,
    copyPublicDir: false,
    lib: {
      entry: fileURLToPath(new URL("standalone/main.ts", import.meta.url)),
      formats: ["iife"],
      name: "gradtraceStandalone",
      fileName: () => "standalone.js",
      cssFileName: "standalone",
    },
  },
});
