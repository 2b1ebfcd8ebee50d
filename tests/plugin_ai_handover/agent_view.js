// Drives headless Chromium (Debian's, through playwright-core) over the agent view page of test_agent_view.py: loads
// it, reads what each task shows, clicks Return to AI on one task, waits for the plugin's answer, saves a screenshot.
// Usage: node agent_view.js <job.json>; the job names the page, the task to click and where to write the result.
'use strict';

const fs = require('fs');
const path = require('path');

const { chromium } = require(path.resolve(__dirname, '../../plugin-ai-handover/node_modules/playwright-core'));

const READ_TASKS = () =>
  Array.from(document.querySelectorAll('[data-task-sid]')).map((task) => {
    const panel = task.querySelector('[data-testid=ai-handoff-panel]');
    const text = (selector) => (task.querySelector(selector) || {}).textContent || null;
    return {
      taskSid: task.dataset.taskSid,
      panel: panel ? panel.innerText : null,
      reason: text('[data-testid=ai-handoff-reason]'),
      summary: text('[data-testid=ai-handoff-summary]'),
      waited: text('[data-testid=ai-handoff-waited]'),
      markupInPanel: panel ? panel.querySelectorAll('img, script, iframe, b').length : 0,
      returnToAi: Boolean(task.querySelector('[data-testid=return-to-ai] button')),
    };
  });

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const browser = await chromium.launch({ executablePath: job.chromium, args: ['--no-sandbox', '--no-proxy-server'] });
  const result = { errors: [], handBacks: [], external: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // Loopback only: anything else (Paste's theme asks for its fonts from Twilio's CDN, as in Flex) is answered
    // empty here and listed.
    await page.route(
      (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
      (route) => {
        result.external.push(route.request().url());
        return route.fulfill({ status: 204, body: '' });
      }
    );
    page.on('pageerror', (error) => result.errors.push(String(error)));
    page.on('requestfailed', (request) => result.errors.push(`${request.url()}: ${request.failure().errorText}`));
    page.on('console', (message) => message.type() === 'error' && result.errors.push(message.text()));
    page.on('response', async (response) => {
      if (!response.url().endsWith('/lifecycle/hand-back')) return;
      const request = response.request();
      result.handBacks.push({
        method: request.method(),
        origin: (await request.allHeaders()).origin || null,
        requestBody: request.postData(),
        status: response.status(),
        allowOrigin: (await response.allHeaders())['access-control-allow-origin'] || null,
        body: await response.json().catch(() => null),
      });
    });
    await page.goto(job.pageUrl);
    await page.waitForFunction(() => window.__drawn === true, null, { timeout: 30000 });
    result.before = await page.evaluate(READ_TASKS);
    if (job.clickTaskSid) {
      const task = page.locator(`[data-task-sid="${job.clickTaskSid}"]`);
      await task.getByRole('button', { name: 'Return to AI' }).click();
      await task.locator('[data-testid=return-to-ai-note]').filter({ hasNotText: 'Handing the customer back' }).waitFor({ timeout: 30000 });
      result.note = await task.locator('[data-testid=return-to-ai-note]').textContent();
      result.buttonDisabled = await task.getByRole('button', { name: 'Return to AI' }).isDisabled();
    }
    result.actions = await page.evaluate(() => window.__flexActions);
    result.pluginError = await page.evaluate(() => window.__pluginError || null);
    await page.screenshot({ path: job.screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  fs.writeFileSync(job.resultPath, JSON.stringify(result));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
