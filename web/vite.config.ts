import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by OpenStage itself at /console/ (src/console/index.ts); the bundle
// goes to dist/web beside the compiled server. Hashed file names under assets/ let the server
// mark them immutable.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: new URL('../dist/web', import.meta.url).pathname,
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
    reportCompressedSize: false,
  },
});
