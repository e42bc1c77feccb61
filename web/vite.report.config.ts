import { defineConfig } from "vite";

// The page `rh plots show|diff` writes (src/report/): one IIFE script and one
// stylesheet, both inlined into the HTML file, so it opens from disk with no
// network. Built after the UI, into RH_WEB_OUT/report, and embedded with it.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: (process.env.RH_WEB_OUT ?? "dist") + "/report",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2020",
    lib: {
      entry: "src/report/plots_report.tsx",
      formats: ["iife"],
      name: "RhPlots",
      fileName: () => "plots.js",
      cssFileName: "plots",
    },
  },
});
