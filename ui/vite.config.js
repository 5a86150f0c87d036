// Vite build of drover's web UI: served by the agent from /ui/ (agent/api/ui_endpoint.cpp),
// embedded in the binary from dist/ (ui/embed.cmake).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: '/ui/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    // The agent's CSP allows no inline script: no inlined module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    include: ['tests/unit/**/*.test.js'],
    environment: 'node',
  },
});
