// Carry's browser suite: Debian's Chromium (no browser download), every journey run twice,
// hydrated ("js") and with JavaScript disabled ("nojs").
import { defineConfig } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.E2E_PORT || 3100);
process.env.E2E_MAIL_DIR ||= path.join(here, ".mail");

export default defineConfig({
  testDir: path.join(here, "tests"),
  outputDir: path.join(here, "test-results"),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  // In CI a test that fails is tried once more and reported as flaky (never silently passed).
  retries: process.env.CI ? 1 : 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
    trace: "retain-on-failure",
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    { name: "nojs", use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: `bash ${path.join(here, "serve.sh")}`,
    url: `http://localhost:${port}/health`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: { E2E_PORT: String(port), E2E_MAIL_DIR: process.env.E2E_MAIL_DIR },
  },
});
