// Logs in to a running CODE server through its login page, opens the dashboard with
// Debian's Chromium and prints what it shows as JSON; saves a full-page screenshot.
// Usage: node dashboard.mjs URL USERNAME PASSWORD SCREENSHOT USER_DATA_DIR
import { chromium } from "playwright-core";

const [url, username, password, screenshot, userDataDir] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const flags = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: flags,
  viewport: { width: 1400, height: 1000 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000);
  await page.goto(`${url}/`);
  const loginPath = new URL(page.url()).pathname;
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${url}/`), page.click("button[type=submit]")]);
  await page.waitForSelector("section.service article.key");
  const services = await page.$$eval("section.service", (sections) =>
    sections.map((section) => ({
      service: section.dataset.service,
      maturity: section.querySelector(".maturity")?.textContent.trim() ?? null,
      keys: [...section.querySelectorAll("article.key")].map((card) => ({
        key: card.dataset.key,
        title: card.querySelector("h3").textContent.trim(),
        value: card.querySelector(".value").textContent.trim(),
        band: card.querySelector(".band").textContent.trim(),
        sparkline: card.querySelectorAll("svg.spark polyline").length,
      })),
      deployments: [...section.querySelectorAll("tr[data-environment]")].map((row) =>
        row.textContent.replace(/\s+/g, " ").trim()),
      operations: [...section.querySelectorAll(".operations")].map((ops) => ({
        source: ops.dataset.source,
        heading: ops.querySelector("h4").textContent.replace(/\s+/g, " ").trim(),
        note: ops.querySelector(".note")?.textContent.trim() ?? "",
        objectives: [...ops.querySelectorAll("article.slo")].map((card) => ({
          key: card.dataset.objective,
          title: card.querySelector("h3").textContent.trim(),
          value: card.querySelector(".value").textContent.trim(),
          unit: card.querySelector(".unit")?.textContent.trim() ?? "",
          verdict: card.querySelector(".band").textContent.trim(),
          target: card.querySelector(".target").textContent.trim(),
          visible: card.checkVisibility() && card.getBoundingClientRect().height > 0,
          border: getComputedStyle(card).borderLeftColor,
          chip: getComputedStyle(card.querySelector(".band")).backgroundColor,
        })),
      }))[0] ?? null,
      bandColours: Object.fromEntries([...section.querySelectorAll("article.key")].map((card) =>
        [card.querySelector(".band").textContent.trim(), getComputedStyle(card).borderLeftColor])),
    })),
  );
  const cookies = await context.cookies();
  await page.screenshot({ path: screenshot, fullPage: true });
  process.stdout.write(JSON.stringify({ loginPath, title: await page.title(), services, cookies }));
} finally {
  await context.close();
}
