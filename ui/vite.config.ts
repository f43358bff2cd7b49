// Vite builds the window into ui/dist (embedded by the Rust build); vitest runs the unit tests
// in happy-dom with Tauri's IPC mocked.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  clearScreen: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  server: { port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'safari15', sourcemap: false },
  test: { environment: 'happy-dom', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] },
});
