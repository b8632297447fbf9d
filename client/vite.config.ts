import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app. `npm run build:client` writes client/dist, which the server serves at `/`.
// `npm run dev:client` serves it with hot reload and proxies the API to AUTODEV_API (default :4000).
const api = process.env.AUTODEV_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/artifacts': api,
    },
  },
});
