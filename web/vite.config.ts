import { defineConfig } from "vite";

// The build lands where CMake asks (RH_WEB_OUT) and is embedded into `rh`.
// Asset names carry content hashes, so the server can cache them forever.
export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: process.env.RH_WEB_OUT ?? "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2020",
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { "/api": process.env.RH_SERVER ?? "http://127.0.0.1:8690" } },
});
