import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Two pages, one build: the app (index.html, served at /app) and GraphiQL (graphiql.html,
// served at /). They share nothing but the file names' prefix: GraphiQL (React + CodeMirror)
// is its own chunk graph, so the app never downloads it.
export default defineConfig({
  base: '/app/',
  // GraphiQL needs the real React: no preact/compat aliasing.
  plugins: [preact({ reactAliasesEnabled: false, prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No data: URLs for our own files, no source maps in the committed bundle.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: { index: 'index.html', graphiql: 'graphiql.html' },
      // GraphiQL's React compiler runtime carries a directive the bundler drops, harmlessly.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` against `cargo run` on :8000.
    proxy: { '/graphql': { target: 'http://127.0.0.1:8000', ws: true } },
  },
});
