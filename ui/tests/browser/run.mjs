// The web UI in a real browser (Debian's Chromium through playwright-core) against a real
// agent: run a job from the UI, watch its alloc turn running, read its logs live, stop it; a
// failing task shows its reason; parse problems show their line; a shell in the exec pane; the
// alloc's files; variables made, edited over the version read and deleted, a lock shown;
// with ACLs on, a read token sees and cannot stop or exec; a JWT and an OIDC provider sign in. Screenshots of the main pages go to SCREENSHOT_DIR for review.
//   DROVER_BIN=build/bin/drover DROVER_PLUGIN_DIR=build/plugins node tests/browser/run.mjs
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { chromium } from 'playwright-core';
import { clusterAgentConfig, startAgent, startEtcd, startServer, until } from './agent.mjs';

const bin = process.env.DROVER_BIN;
const pluginDir = process.env.DROVER_PLUGIN_DIR;
const shots = process.env.SCREENSHOT_DIR || 'build/ui-screenshots';
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!bin || !existsSync(bin)) throw new Error('DROVER_BIN must name the built drover binary');
if (!existsSync(browserPath)) throw new Error(`no Chromium at ${browserPath} (scripts/setup.sh installs Debian's chromium)`);
mkdirSync(shots, { recursive: true });

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, 'ok']);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, 'FAIL']);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const browser = await chromium.launch({
  executablePath: browserPath,
  headless: true,
  // As root (CI) Chromium's sandbox cannot start.
  // Two names that resolve to the agent, as a rebinding attacker's name would: one the agent's
  // config allows, one it does not.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--host-resolver-rules=MAP rebind.test 127.0.0.1, MAP allowed.test 127.0.0.1'],
});

async function newPage(agent) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.cspProblems = problems;
  return page;
}

const textOf = (page, sel) => page.locator(sel).first().textContent({ timeout: 1000 }).catch(() => '');
// For `until`: true when the element reads `want`; otherwise throws what it reads, so that a
// wait that times out says where the page stood (an exec pane still "connecting", say).
const textIs = async (page, sel, want) => {
  const text = await textOf(page, sel);
  if (text === want) return true;
  throw new Error(`${sel} reads ${JSON.stringify(text)}, not ${JSON.stringify(want)}`);
};

const LOG_JOB = `job "ticker" {
  type = "service"
  group "g" {
    task "tick" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args = ["-c", "echo '<b id=injected>not markup</b>'; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`;

const FAILING_JOB = `job "broken" {
  type = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "missing" {
      driver = "raw_exec"
      config {
        command = "/no/such/program"
      }
    }
  }
}
`;

// A web server with a service, an http check and a memory limit: the alloc page's charts,
// health, checks and services.
const WEB_JOB = `job "web" {
  group "web" {
    update {
      min_healthy_time = "500ms"
      healthy_deadline = "30s"
    }
    network {
      port "http" {}
    }
    service {
      name = "web"
      port = "http"
      check {
        name     = "index"
        type     = "http"
        path     = "/index.html"
        interval = "500ms"
        timeout  = "1s"
      }
    }
    task "httpd" {
      driver       = "raw_exec"
      kill_timeout = "1s"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec busybox httpd -f -p \${NOMAD_ADDR_http} -h $NOMAD_TASK_DIR"]
      }
      template {
        data          = "ok from {{ env \\"NOMAD_TASK_NAME\\" }}\\n"
        destination   = "local/index.html"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }
      resources {
        cpu    = 50
        memory = 48
      }
    }
  }
}
`;

const PARAM_JOB = `job "greeter" {
  type = "batch"
  parameterized {
    payload       = "optional"
    meta_required = ["who"]
  }
  group "g" {
    task "hello" {
      driver = "raw_exec"
      dispatch_payload {
        file = "in.txt"
      }
      config {
        command = "/bin/sh"
        args    = ["-c", "echo hello $NOMAD_META_who; cat $NOMAD_TASK_DIR/in.txt"]
      }
    }
  }
}
`;

const PERIODIC_JOB = `job "nightly" {
  type = "batch"
  periodic {
    cron             = "0 3 1 1 *"
    prohibit_overlap = true
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
`;

const BAD_HCL = `job "bad" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = 
      }
    }
  }
}
`;

async function submitFromUi(page, agent, text) {
  await page.goto(agent.base + '/ui/#/submit');
  await page.locator('[data-testid=job-text]').fill(text);
  await page.locator('[data-testid=run-job]').click();
}

// ---- ACLs off ----
{
  // One browser reaches this agent under three names (the DNS rebinding test below), and
  // Chromium keeps up to six connections per name, event streams among them: more than the
  // default cap of 12 per client address, which stands for one client under one name (a CI
  // run got a 429 for localhost).
  const agent = await startAgent({
    bin, pluginDir,
    config: 'http_allowed_hosts: [allowed.test]\nlimits:\n  http_max_conns_per_client: 48\n',
  });
  const page = await newPage(agent);
  try {
    await test('a browser at / lands on the UI, served with a strict CSP', async () => {
      const res = await page.goto(agent.base + '/');
      if (!page.url().endsWith('/ui/')) throw new Error('not redirected to /ui/: ' + page.url());
      const csp = res.headers()['content-security-policy'] || '';
      if (!csp.includes("script-src 'self'") || csp.includes('unsafe-inline')) throw new Error('CSP: ' + csp);
      await page.locator('h1', { hasText: 'Jobs' }).waitFor();
      await until('the event stream to be live', async () => await textIs(page, '[data-testid=stream-state]', 'live'));
    });

    await test('a job run from the UI turns running, its logs stream live as text, Stop stops it', async () => {
      await submitFromUi(page, agent, LOG_JOB);
      await page.waitForURL(/#\/job\/ticker$/);
      await until('the alloc to show running', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'running'));
      await page.screenshot({ path: `${shots}/job.png`, fullPage: true });
      await page.goto(agent.base + '/ui/#/jobs');
      await until('the jobs list to count one running alloc', async () =>
        await textIs(page, '[data-job=ticker] [data-count=running]', '1'));
      await page.screenshot({ path: `${shots}/jobs.png`, fullPage: true });
      await page.locator('[data-job=ticker] a').click();
      await page.locator('[data-testid=allocs] a').first().click();
      await page.waitForURL(/#\/alloc\//);
      const log = page.locator('[data-testid=log-tick]');
      const first = await until('tick 3 in the log', async () => {
        const t = await log.textContent();
        const m = [...t.matchAll(/tick (\d+)/g)];
        return m.length && Number(m.at(-1)[1]) >= 3 ? Number(m.at(-1)[1]) : 0;
      });
      // Live: later lines arrive without a reload.
      await until('later ticks to arrive', async () => {
        const m = [...(await log.textContent()).matchAll(/tick (\d+)/g)];
        return Number(m.at(-1)[1]) >= first + 5;
      });
      if (!(await log.textContent()).includes('<b id=injected>not markup</b>')) throw new Error('the markup line is not shown as text');
      if ((await page.locator('#injected').count()) !== 0) throw new Error("a task's output became HTML");
      if ((await textOf(page, '[data-testid=task-state]')).trim() !== 'running') throw new Error('task not shown running');
      await page.screenshot({ path: `${shots}/alloc.png`, fullPage: true });
      await page.goto(agent.base + '/ui/#/job/ticker');
      await page.locator('[data-testid=stop-job]').click();
      await until('the job to show dead', async () => await textIs(page, '[data-testid=job-status]', 'dead'));
      await until('the alloc to leave running', async () => {
        const s = await textOf(page, '[data-testid=allocs] [data-testid=alloc-status]');
        return s && s !== 'running' && s !== 'pending';
      });
    });

    await test('the exec pane opens a shell in a running task: typed `echo hello` shows hello, exit shows its code', async () => {
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: LOG_JOB.replace('"ticker"', '"execme"') });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      const alloc = await until('the running alloc', async () =>
        (await fetch(agent.base + '/v1/job/execme/allocations').then((r) => r.json())).find((a) => a.ClientStatus === 'running'));
      await page.goto(agent.base + '/ui/#/alloc/' + alloc.ID);
      const pane = page.locator('[data-testid=exec-tick]');
      await pane.locator('[data-testid=exec-toggle]').click();
      await until('the session to connect', async () => await textIs(pane, '[data-testid=exec-state]', 'connected'));
      await pane.locator('[data-testid=exec-terminal]').click();
      await page.keyboard.type('echo hello\n');
      // The command line echoes "echo hello"; its output is a row of its own.
      const rows = async () => (await pane.locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim());
      await until('a row that says hello', async () => (await rows()).includes('hello'));
      await page.screenshot({ path: `${shots}/alloc-exec.png`, fullPage: true });
      await page.keyboard.type('exit 3\n');
      await until('the exit code', async () => await textIs(pane, '[data-testid=exec-state]', 'exited with code 3'));
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
      await fetch(agent.base + '/v1/job/execme', { method: 'DELETE' });
    });

    await test("a task's action runs from the alloc page: its output shows, then its exit code", async () => {
      const job = LOG_JOB.replace('"ticker"', '"acted"').replace(
        '      resources {',
        '      action "say-hi" {\n        command = "/bin/sh"\n        args = ["-c", "echo hi from the action; exit 4"]\n      }\n      resources {',
      );
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: job });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      const alloc = await until('the running alloc', async () =>
        (await fetch(agent.base + '/v1/job/acted/allocations').then((r) => r.json())).find((a) => a.ClientStatus === 'running'));
      await page.goto(agent.base + '/ui/#/alloc/' + alloc.ID);
      const pane = page.locator('[data-testid=exec-tick]');
      await pane.locator('[data-testid=action-say-hi]').click();
      await until('the exit code', async () => await textIs(pane, '[data-testid=exec-state]', 'exited with code 4'));
      const rows = async () => (await pane.locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim());
      await until('a row that says hi from the action', async () => (await rows()).includes('hi from the action'));
      await page.screenshot({ path: `${shots}/alloc-action.png`, fullPage: true });
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
      await fetch(agent.base + '/v1/job/acted', { method: 'DELETE' });
    });

    await test("the files pane walks the alloc dir and shows a task's file as text; its secrets are refused", async () => {
      const job = LOG_JOB.replace('"ticker"', '"filed"').replace(
        `"echo '<b id=injected>`,
        `"echo '<b id=filemark>hi</b>' > local/greeting.txt; echo token > secrets/t.txt; echo '<b id=injected>`,
      );
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: job });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      const alloc = await until('the running alloc', async () =>
        (await fetch(agent.base + '/v1/job/filed/allocations').then((r) => r.json())).find((a) => a.ClientStatus === 'running'));
      await page.goto(agent.base + '/ui/#/alloc/' + alloc.ID);
      const files = page.locator('[data-testid=files]');
      await files.locator('[data-file=tick] button').click();
      await files.locator('[data-file=local] button').click();
      await until('the path to show local', async () => (await textOf(files, '[data-testid=files-path]')).includes('local'));
      await until('greeting.txt to be listed', async () => (await files.locator('[data-file="greeting.txt"]').count()) === 1);
      await files.locator('[data-file="greeting.txt"] button').click();
      const text = await until('the file text', async () => textOf(files, '[data-testid=file-text]'));
      if (text !== "<b id=filemark>hi</b>\n") throw new Error('file text: ' + JSON.stringify(text));
      if ((await page.locator('#filemark').count()) !== 0) throw new Error("a task's file became HTML");
      await page.screenshot({ path: `${shots}/alloc-files.png`, fullPage: true });
      await files.locator('[data-testid=files-path] button', { hasText: 'tick' }).click();
      await files.locator('[data-file=secrets] button').click();
      await until('the refusal to show', async () => (await files.textContent()).includes('secrets dir'));
      if ((await files.textContent()).includes('token')) throw new Error('a secret was shown');
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
      await fetch(agent.base + '/v1/job/filed', { method: 'DELETE' });
    });

    await test('the definition shows the HCL a job was run from, and the JSON of a YAML job', async () => {
      const hcl = LOG_JOB.replace('"ticker"', '"sourced"').replace('type = "service"', 'type = "service" # kept as written');
      await submitFromUi(page, agent, hcl);
      await page.waitForURL(/#\/job\/sourced$/);
      await page.locator('[data-testid=show-definition]').click();
      const shown = page.locator('[data-testid=job-definition]');
      if ((await shown.getAttribute('data-format')) !== 'HCL') throw new Error('format: ' + (await shown.getAttribute('data-format')));
      if ((await shown.textContent()) !== hcl) throw new Error('not the submitted text: ' + (await shown.textContent()).slice(0, 200));
      await page.screenshot({ path: `${shots}/job-definition-hcl.png`, fullPage: true });
      const sub = await fetch(agent.base + '/v1/job/sourced/submission').then((r) => r.json());
      if (sub.Format !== 'hcl2' || sub.Source !== hcl) throw new Error('submission: ' + JSON.stringify(sub).slice(0, 200));
      await fetch(agent.base + '/v1/job/sourced?purge=true', { method: 'DELETE' });
      await submitFromUi(page, agent, 'job:\n  id: yamled\n  type: batch\n  groups:\n    - name: g\n      tasks:\n        - name: t\n          driver: raw_exec\n          config: {command: /bin/true}\n');
      await page.waitForURL(/#\/job\/yamled$/);
      await page.locator('[data-testid=show-definition]').click();
      if ((await shown.getAttribute('data-format')) !== 'JSON') throw new Error('a YAML job shows ' + (await shown.getAttribute('data-format')));
      if (!/"ID": "yamled"/.test(await shown.textContent())) throw new Error('JSON: ' + (await shown.textContent()).slice(0, 200));
      await fetch(agent.base + '/v1/job/yamled?purge=true', { method: 'DELETE' });
    });

    await test("the job page shows the job's ui block: its description as Markdown and its links", async () => {
      const hcl = LOG_JOB.replace('"ticker"', '"described"').replace(
        'type = "service"',
        'type = "service"\n  ui {\n    description = "Serves **ticks** <b id=uimark>raw</b>.\\nSee the [runbook](https://runbook.example/ticks) and [this](javascript:alert(1))."\n    link {\n      label = "Dashboard"\n      url = "https://grafana.example/d/ticks"\n    }\n  }',
      );
      await submitFromUi(page, agent, hcl);
      await page.waitForURL(/#\/job\/described$/);
      const desc = '[data-testid=job-description]';
      await until('the description', async () => await textIs(page, `${desc} strong`, 'ticks'));
      // Raw HTML in it is text; only http(s) links, opened apart.
      if (await page.locator('#uimark').count()) throw new Error('the description was parsed as HTML');
      if (!(await textOf(page, desc)).includes('<b id=uimark>raw</b>')) throw new Error('description: ' + (await textOf(page, desc)));
      const runbook = page.locator(`${desc} a[href="https://runbook.example/ticks"]`);
      if ((await runbook.count()) !== 1 || (await runbook.getAttribute('rel')) !== 'noopener noreferrer' || (await runbook.getAttribute('target')) !== '_blank')
        throw new Error('runbook link: ' + (await page.locator(desc).evaluate((d) => d.innerHTML)));
      if (await page.locator(`${desc} a[href^="javascript"]`).count()) throw new Error('a javascript: link was kept');
      const link = page.locator('[data-testid=job-link]');
      if ((await link.textContent()) !== 'Dashboard' || (await link.getAttribute('href')) !== 'https://grafana.example/d/ticks')
        throw new Error('link: ' + (await link.evaluate((a) => a.outerHTML)));
      if ((await link.getAttribute('rel')) !== 'noopener noreferrer') throw new Error('rel: ' + (await link.getAttribute('rel')));
      await page.screenshot({ path: `${shots}/job-ui-block.png`, fullPage: true });
      await fetch(agent.base + '/v1/job/described?purge=true', { method: 'DELETE' });
    });

    await test('a failing task shows its reason', async () => {
      await submitFromUi(page, agent, FAILING_JOB);
      await page.waitForURL(/#\/job\/broken$/);
      await until('the alloc to show failed', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'failed'));
      await page.locator('[data-testid=allocs] a').first().click();
      const reason = await until('the failed task to show a reason', async () => {
        const t = await textOf(page, '[data-testid=task-reason]');
        return t.trim() ? t : '';
      });
      if (!reason.includes("/no/such/program")) throw new Error('reason: ' + reason);
      await page.screenshot({ path: `${shots}/alloc-failed.png`, fullPage: true });
    });

    await test('the alloc page charts cpu, memory against its limit and processes live, with health, checks and services', async () => {
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: WEB_JOB });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      const allocs = await until('the alloc', async () => (await fetch(agent.base + '/v1/job/web/allocations').then((r) => r.json()))[0]);
      await page.goto(agent.base + '/ui/#/alloc/' + allocs.ID);
      // Live: the charts gain samples without a reload (one a second).
      await until('three samples in the charts', async () => Number(await page.locator('[data-testid=chart-memory]').getAttribute('data-samples', { timeout: 1000 })) >= 3, 20000);
      const mem = await textOf(page, '[data-testid=chart-memory]');
      if (!/of 48\.0 MiB/.test(mem)) throw new Error('memory chart without its 48 MiB limit: ' + mem);
      const pids = Number(await textOf(page, '[data-testid=chart-pids-value]'));
      if (!(pids >= 1)) throw new Error('processes: ' + pids);
      if (!/%$/.test(await textOf(page, '[data-testid=chart-cpu-value]'))) throw new Error('no cpu percent');
      if ((await page.locator('[data-testid=chart-memory] polyline').count()) !== 1) throw new Error('no memory line drawn');
      await until('the check to pass', async () => (await textOf(page, '[data-check=index] [data-testid=check-status]')).startsWith('success'));
      await until('the alloc to turn healthy', async () => await textIs(page, '[data-testid=alloc-health]', 'healthy'));
      await until('the service to show its registered address', async () => /^127\.0\.0\.1:\d+$/.test((await textOf(page, '[data-service=web] [data-testid=service-address]')).trim()));
      const tpl = page.locator('[data-task=httpd] [data-template="local/index.html"]');
      if (!/signal SIGHUP/.test(await tpl.textContent())) throw new Error('template row: ' + (await tpl.textContent()));
      if (!/Rendered 1 template/.test(await textOf(page, '[data-task=httpd] [data-testid=template-last]'))) throw new Error('no render shown');
      const page_ = await fetch('http://' + (await textOf(page, '[data-service=web] [data-testid=service-address]')).trim() + '/index.html').then((r) => r.text());
      if (page_ !== 'ok from httpd\n') throw new Error('the rendered template served: ' + JSON.stringify(page_));
      await page.screenshot({ path: `${shots}/alloc-resources.png`, fullPage: true });
      await fetch(agent.base + '/v1/job/web', { method: 'DELETE' });
    });

    // An alloc with a namespace of its own shows its network mode and address (bridge mode:
    // drover's CNI bridge), and its port's inside port. Needs root, runc and the CNI plugins.
    const execHealthy = (await fetch(agent.base + '/v1/node').then((r) => r.json())).Drivers?.exec?.Healthy;
    if (execHealthy && existsSync('/usr/lib/cni/bridge')) {
      await test('the alloc page shows a bridge-mode alloc\'s network mode, address and inside port', async () => {
        const job = `job:\n  id: netpage\n  groups:\n    - name: g\n      network:\n        mode: bridge\n        ports: {http: {to: 8080}}\n      tasks:\n        - name: t\n          driver: exec\n          kill_timeout: 1s\n          resources: {memory: 32}\n          config: {command: /bin/sleep, args: ["600"]}\n`;
        const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: job, headers: { 'Content-Type': 'application/yaml' } });
        if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
        const { AllocIDs } = await sub.json();
        await page.goto(agent.base + '/ui/#/alloc/' + AllocIDs[0]);
        await until('the network line with the alloc address', async () => /^mode bridge · address 172\.26\.\d+\.\d+ \(eth0\)$/.test((await textOf(page, '[data-testid=alloc-network]')).trim()));
        const ports = await textOf(page, '[data-testid=ports]');
        if (!/Inside the alloc/.test(ports) || !/http127\.0\.0\.1:\d+8080/.test(ports.replace(/\s+/g, ''))) throw new Error('ports: ' + ports);
        await page.screenshot({ path: `${shots}/alloc-network.png`, fullPage: true });
        await fetch(agent.base + '/v1/job/netpage', { method: 'DELETE' });
      });
    } else {
      console.log('skip the alloc network test: exec or the CNI plugins are not there');
    }

    await test('Dispatch sends payload and meta and opens the dispatched job; missing meta shows the problem', async () => {
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: PARAM_JOB });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      await page.goto(agent.base + '/ui/#/job/greeter');
      await page.locator('[data-testid=dispatch-form]').waitFor();
      // The required key with no value is refused by the agent, and the page says why.
      await page.locator('[data-testid=dispatch-meta]').fill('');
      await page.locator('[data-testid=dispatch]').click();
      const why = await until('the refusal to show', async () => textOf(page, '[data-testid=dispatch-form] [data-testid=error]'));
      if (!/who/.test(why)) throw new Error('refusal does not name the meta key: ' + why);
      await page.locator('[data-testid=dispatch-meta]').fill('who=world');
      await page.locator('[data-testid=dispatch-payload]').fill('payload <i>text</i> ünïcode');
      await page.locator('[data-testid=dispatch]').click();
      await page.waitForURL(/#\/job\/greeter%2Fdispatch-/);
      await until('the dispatched alloc to complete', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'complete'));
      await page.locator('[data-testid=allocs] a').first().click();
      const log = page.locator('[data-testid=log-hello]');
      await until('the meta and payload in the log', async () => {
        const t = await log.textContent();
        return t.includes('hello world') && t.includes('payload <i>text</i> ünïcode');
      });
      await page.goto(agent.base + '/ui/#/job/greeter');
      await page.locator('[data-testid=children] [data-child^="greeter/dispatch-"]').waitFor();
      await page.screenshot({ path: `${shots}/job-dispatch.png`, fullPage: true });
    });

    await test('Periodic force launches a child shown under Launches; Restart restarts the running alloc', async () => {
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: PERIODIC_JOB });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      await page.goto(agent.base + '/ui/#/job/nightly');
      await page.locator('[data-testid=periodic-force]').click();
      await page.locator('[data-testid=children] [data-child^="nightly/periodic-"]').waitFor({ timeout: 15000 });
      const again = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: LOG_JOB.replace('"ticker"', '"restartme"') });
      if (!again.ok) throw new Error('submit: ' + (await again.text()));
      await page.goto(agent.base + '/ui/#/job/restartme');
      await page.locator('[data-testid=restart-job]').click();
      await until('the task to have restarted', async () => {
        const [a] = await fetch(agent.base + '/v1/job/restartme/allocations').then((r) => r.json());
        const full = await fetch(agent.base + '/v1/allocation/' + a.ID).then((r) => r.json());
        return (full.TaskStates?.tick?.Events || []).some((e) => e.Type === 'Restart Signaled');
      });
      await fetch(agent.base + '/v1/job/restartme', { method: 'DELETE' });
    });

    await test('a job with a syntax error shows its problem with the line', async () => {
      await submitFromUi(page, agent, BAD_HCL);
      const text = await until('problems to show', async () => textOf(page, '[data-testid=problems]'));
      // The value missing after "command =" is found at the end of line 6.
      const line = await textOf(page, '[data-testid=problem-line]');
      if (!/line 6/.test(line)) throw new Error('no line 6 marked in: ' + text);
      await page.screenshot({ path: `${shots}/submit-problems.png`, fullPage: true });
    });

    await test('the same job ID in two namespaces: all namespaces lists both, one namespace only its own, and each job page reads and stops its own', async () => {
      const twin = LOG_JOB.replace('"ticker"', '"twin"');
      const inTeam = twin.replace('job "twin" {', 'job "twin" {\n  namespace = "team"');
      for (const body of [twin, inTeam]) {
        const r = await fetch(agent.base + '/v1/jobs', { method: 'POST', body });
        if (!r.ok) throw new Error('submit: ' + (await r.text()));
      }
      await page.goto(agent.base + '/ui/#/jobs');
      await page.locator('[data-testid=namespace]').selectOption('*');
      await until('both twins to run, each in its namespace', async () =>
        await textIs(page, '[data-job=twin][data-namespace=team] [data-count=running]', '1') &&
        await textIs(page, '[data-job=twin][data-namespace=default] [data-count=running]', '1'));
      await page.screenshot({ path: `${shots}/jobs-namespaces.png`, fullPage: true });
      await page.locator('[data-testid=namespace]').selectOption('team');
      await until('only the team twin to be listed', async () =>
        (await page.locator('[data-job=twin]').count()) === 1 &&
        (await page.locator('[data-job=twin][data-namespace=team]').count()) === 1);
      await page.locator('[data-job=twin] a').click();
      await page.waitForURL(/#\/job\/twin\?namespace=team$/);
      await until('the team job page to show its running alloc', async () =>
        await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'running'));
      await page.locator('[data-testid=stop-job]').click();
      await until('the team twin to be dead', async () => await textIs(page, '[data-testid=job-status]', 'dead'));
      // Stopping one did not touch the other.
      const other = await fetch(agent.base + '/v1/job/twin').then((r) => r.json());
      if (other.Stop || other.Status === 'dead') throw new Error('the default twin was stopped too: ' + other.Status);
      await fetch(agent.base + '/v1/job/twin', { method: 'DELETE' });
      await page.goto(agent.base + '/ui/#/jobs');
      await page.locator('[data-testid=namespace]').selectOption('*');
    });

    await test('the node page shows drivers, networks, cgroup mode and attributes', async () => {
      await page.goto(agent.base + '/ui/#/node');
      await page.locator('[data-testid=drivers]', { hasText: 'raw_exec' }).waitFor();
      const mode = await textOf(page, '[data-testid=cgroup-mode]');
      if (!/^v[12]$/.test(mode)) throw new Error('cgroup mode: ' + mode);
      await page.locator('[data-testid=attributes]', { hasText: 'kernel.name' }).waitFor();
      // Metadata set from the page is the node's at once (GET /v1/node), and unset again.
      await page.locator('[data-testid=meta-key]').fill('rack');
      await page.locator('[data-testid=meta-new-value]').fill('r5');
      await page.locator('[data-testid=meta-set]').click();
      await until('the applied key listed', async () => await textIs(page, '[data-testid=node-meta] tr[data-meta=rack] [data-testid=meta-value]', 'r5'));
      const node = await fetch(agent.base + '/v1/node').then((r) => r.json());
      if (node.Meta.rack !== 'r5') throw new Error('node Meta: ' + JSON.stringify(node.Meta));
      await page.screenshot({ path: `${shots}/node.png`, fullPage: true });
      await page.locator('[data-testid=meta-key]').fill('bad key');
      await page.locator('[data-testid=meta-set]').click();
      await until('the refusal named', async () => /Meta: key "bad key"/.test(await textOf(page, '[data-testid=node-meta] [data-testid=error]')));
      await page.locator('[data-testid=node-meta] tr[data-meta=rack] [data-testid=meta-unset]').click();
      await until('the key gone', async () => (await page.locator('[data-testid=node-meta] tr[data-meta=rack]').count()) === 0);
    });

    await test('a variable made from the form is listed, its values hidden until shown; a stale edit and a lock are refused in words; Delete removes it', async () => {
      await page.goto(agent.base + '/ui/#/new-variable');
      await page.locator('[data-testid=variable-path]').fill('app/db');
      await page.locator('[data-testid=item-key]').nth(0).fill('user');
      await page.locator('[data-testid=item-value]').nth(0).fill('admin');
      // Typing into the last row opened another.
      await page.locator('[data-testid=item-key]').nth(1).fill('pass');
      await page.locator('[data-testid=item-value]').nth(1).fill('s3cret');
      await page.locator('[data-testid=create-variable]').click();
      await until('the new variable shown', async () => await textIs(page, 'h1 [data-testid=variable-path]', 'app/db'));
      const stored = await fetch(agent.base + '/v1/var/app/db').then((r) => r.json());
      if (stored.Items.user !== 'admin' || stored.Items.pass !== 's3cret') throw new Error('stored: ' + JSON.stringify(stored.Items));
      if (await textOf(page, '[data-item=pass] [data-testid=item-value]') !== '••••••••') throw new Error('the value shows before it is asked for');
      await page.locator('[data-testid=show-values]').click();
      await until('the value shown', async () => await textIs(page, '[data-item=pass] [data-testid=item-value]', 's3cret'));
      await page.screenshot({ path: `${shots}/variable.png`, fullPage: true });
      // Created again at the same path: refused, since Create writes only where nothing is.
      await page.goto(agent.base + '/ui/#/new-variable');
      await page.locator('[data-testid=variable-path]').fill('app/db');
      await page.locator('[data-testid=item-key]').nth(0).fill('x');
      await page.locator('[data-testid=create-variable]').click();
      await until('the conflict said', async () => /already exists at app\/db/.test(await textOf(page, '[data-testid=variable-problem]')));
      // An edit over a version someone else has replaced since it was read is refused.
      await page.goto(agent.base + '/ui/#/variable/app/db');
      await page.locator('[data-testid=edit-variable]').click();
      await fetch(agent.base + '/v1/var/app/db', { method: 'PUT', body: JSON.stringify({ Items: { user: 'other' } }) });
      await page.locator('[data-testid=item-value]').nth(1).fill('root');
      await page.locator('[data-testid=save-variable]').click();
      await until('the stale edit refused', async () => /changed this variable since it was read/.test(await textOf(page, '[data-testid=variable-problem]')));
      if ((await fetch(agent.base + '/v1/var/app/db').then((r) => r.json())).Items.user !== 'other') throw new Error('the stale edit was written');
      // A lock held over it: listed as locked, and an edit is refused saying so.
      const lock = await fetch(agent.base + '/v1/var/app/db?lock-acquire', { method: 'PUT', body: JSON.stringify({ Lock: {} }) }).then((r) => r.json());
      await page.goto(agent.base + '/ui/#/variables');
      await page.locator('[data-testid=variables] tr[data-variable="app/db"] [data-testid=variable-locked]').waitFor();
      await page.screenshot({ path: `${shots}/variables.png`, fullPage: true });
      await page.locator('[data-testid=variables] tr[data-variable="app/db"] a').click();
      await page.locator('[data-testid=variable-lock]').waitFor();
      await page.locator('[data-testid=edit-variable]').click();
      await page.locator('[data-testid=item-value]').nth(0).fill('mine');
      await page.locator('[data-testid=save-variable]').click();
      await until('the lock named', async () => /is locked \(attempting to modify locked variable\)/.test(await textOf(page, '[data-testid=variable-problem]')));
      await fetch(agent.base + '/v1/var/app/db?lock-release', { method: 'PUT', body: JSON.stringify({ Lock: { ID: lock.Lock.ID } }) });
      // The release moved the variable on: the page read again before its Delete (which, too,
      // applies only to the version it read).
      await page.locator('[data-testid=cancel-edit]').click();
      await page.reload();
      await page.locator('[data-testid=variable-path]').waitFor();
      if (await page.locator('[data-testid=variable-lock]').count()) throw new Error('still shown locked after the release');
      page.once('dialog', (d) => d.accept());
      await page.locator('[data-testid=delete-variable]').click();
      await until('back at the list', async () => page.url().endsWith('#/variables'));
      const gone = await fetch(agent.base + '/v1/var/app/db');
      if (gone.status !== 404) throw new Error('after Delete: ' + gone.status);
    });

    await test('after the agent restarts the page reconnects and follows new events', async () => {
      await page.goto(agent.base + '/ui/#/jobs');
      await until('the event stream to be live', async () => await textIs(page, '[data-testid=stream-state]', 'live'));
      await agent.restart();
      await until('the event stream to be live again', async () => await textIs(page, '[data-testid=stream-state]', 'live'), 30000);
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', body: LOG_JOB.replace('"ticker"', '"after-restart"') });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      // No reload: the new job and its running alloc come through the reconnected stream.
      await until('the new job to show a running alloc', async () =>
        await textIs(page, '[data-job=after-restart] [data-count=running]', '1'));
      // Long after the refetch that follows a reconnect: only the stream can bring this.
      await fetch(agent.base + '/v1/job/after-restart', { method: 'DELETE' });
      await until('the stopped job to show dead', async () =>
        await textIs(page, '[data-job=after-restart] .status', 'dead'), 15000);
    });

    await test('the page breaks no CSP rule and throws nothing', async () => {
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
    });

    await test('a name the agent does not answer to (DNS rebinding) gets 403; an allowed name gets the UI', async () => {
      const port = new URL(agent.base).port;
      const res = await page.goto(`http://rebind.test:${port}/ui/`);
      if (res.status() !== 403) throw new Error('rebind.test got ' + res.status());
      if (!(await res.text()).includes('http_allowed_hosts')) throw new Error('the refusal does not say how to allow a name');
      const api = await page.goto(`http://rebind.test:${port}/v1/jobs`);
      if (api.status() !== 403) throw new Error('the API under rebind.test got ' + api.status());
      const ok = await page.goto(`http://allowed.test:${port}/ui/#/jobs`);
      if (ok.status() !== 200) throw new Error('allowed.test got ' + ok.status());
      await until('the event stream to be live under allowed.test', async () => await textIs(page, '[data-testid=stream-state]', 'live'));
      const local = await page.goto(`http://localhost:${port}/ui/`);
      if (local.status() !== 200) throw new Error('localhost got ' + local.status());
    });

    await test('a write from another origin is refused', async () => {
      const r = await fetch(agent.base + '/v1/jobs', {
        method: 'POST',
        headers: { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
        body: LOG_JOB,
      });
      if (r.status !== 403) throw new Error('status ' + r.status);
    });
  } finally {
    await page.close();
    await agent.stop();
  }
}

// ---- GPUs (the nvidia plugin over the tests' fake NVML) ----
if (process.env.FAKE_NVML) {
  const dir = mkdtempSync(join(tmpdir(), 'drover-ui-gpus-'));
  const gpus = [0, 1].map((i) => ({
    uuid: `GPU-0000000${i}`,
    name: 'NVIDIA H100 80GB HBM3',
    memory_mib: 81559,
    memory_used_mib: 1024 * (i + 1),
    utilization: [40 + i, 10],
    temperature_c: 50 + i,
    minor: i,
    bus_id: `00000000:0${i}:00.0`,
  }));
  writeFileSync(join(dir, 'gpus.json'), JSON.stringify({ gpus }));
  const agent = await startAgent({
    bin,
    pluginDir,
    config: `plugin:\n  nvidia:\n    config:\n      nvml_path: ${process.env.FAKE_NVML}\n`,
    env: { FAKE_NVML_CONFIG: join(dir, 'gpus.json') },
  });
  const page = await newPage(agent);
  try {
    await test('the node page charts each GPU: utilisation, memory and temperature', async () => {
      await page.goto(agent.base + '/ui/#/node');
      const gpu1 = page.locator('[data-gpu=GPU-00000001]');
      await gpu1.waitFor();
      await until('two samples of GPU 1', async () => Number(await gpu1.locator('[data-testid=gpu-util]').getAttribute('data-samples', { timeout: 1000 })) >= 2, 15000);
      const util = await gpu1.locator('[data-testid=gpu-util-value]').textContent();
      const mem = await gpu1.locator('[data-testid=gpu-memory]').textContent();
      const temp = await gpu1.locator('[data-testid=gpu-temp-value]').textContent();
      if (util !== '41 %') throw new Error('utilisation: ' + util);
      if (!mem.includes('2048 MiB') || !mem.includes('of 81559 MiB')) throw new Error('memory: ' + mem);
      if (temp !== '51 °C') throw new Error('temperature: ' + temp);
      if ((await page.locator('[data-gpu]').count()) !== 2) throw new Error('not two GPUs');
      await page.screenshot({ path: `${shots}/node-gpus.png`, fullPage: true });
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
    });
  } finally {
    await page.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.log('skip the GPU page test: FAKE_NVML is not set (ctest sets it)');
}

// ---- Cluster mode: the UI served by `drover server` ----
if (spawnSync('sh', ['-c', 'command -v etcd']).status === 0) {
  const etcd = await startEtcd();
  const servers = [];
  let agent = null;
  let page = null;
  try {
    servers.push(await startServer({ bin, name: 'ui-s1', etcd }));
    servers.push(await startServer({ bin, name: 'ui-s2', etcd }));
    agent = await startAgent({ bin, pluginDir, config: clusterAgentConfig(etcd) });
    const server = servers[0];
    page = await newPage(server);
    await test('a server serves the UI: nodes with status, eligibility and drain, the servers and their leader', async () => {
      const res = await page.goto(server.base + '/');
      if (!page.url().endsWith('/ui/')) throw new Error('not redirected to /ui/: ' + page.url());
      if (!(res.headers()['content-security-policy'] || '').includes("script-src 'self'")) throw new Error('no CSP');
      await until('the page to poll', async () => await textIs(page, '[data-testid=stream-state]', 'polling'));
      await page.locator('header a', { hasText: 'Nodes' }).click();
      const row = page.locator('[data-testid=nodes] tr[data-node]').first();
      await until('the node to show ready', async () => await textIs(row, '[data-testid=node-status]', 'ready'), 30000);
      if ((await textOf(row, '[data-testid=node-eligibility]')) !== 'eligible') throw new Error('eligibility not shown');
      if ((await textOf(row, '[data-testid=node-drain]')) !== 'no') throw new Error('drain not shown');
      await page.screenshot({ path: `${shots}/cluster-nodes.png`, fullPage: true });
      await row.locator('a').click();
      await page.locator('[data-testid=drivers]', { hasText: 'raw_exec' }).waitFor();
      // The node's scheduling controls: ineligible and back; a forced drain of a node with
      // nothing on it completes at once and leaves it ineligible; then eligible again for
      // the next test's job.
      const eligibility = () => textOf(page, '[data-testid=node-controls] [data-testid=node-eligibility]');
      await page.locator('[data-testid=eligibility-toggle]').click();
      await until('the node to show ineligible', async () => (await eligibility()) === 'ineligible', 20000);
      await page.locator('[data-testid=eligibility-toggle]').click();
      await until('the node to show eligible', async () => (await eligibility()) === 'eligible', 20000);
      await page.locator('[data-testid=drain-deadline]').fill('soon');
      await page.locator('[data-testid=drain-start]').click();
      await page.locator('[data-testid=node-controls] [data-testid=error]', { hasText: 'deadline' }).waitFor();
      await page.locator('[data-testid=drain-force]').click();
      await until('the drain to complete', async () => /complete/.test(await textOf(page, '[data-testid=node-last-drain]')), 20000);
      if ((await eligibility()) !== 'ineligible') throw new Error('a drained node must stay ineligible');
      await page.screenshot({ path: `${shots}/cluster-node-drained.png`, fullPage: true });
      await page.locator('[data-testid=eligibility-toggle]').click();
      await until('the node eligible again', async () => (await eligibility()) === 'eligible', 20000);
      await page.goto(server.base + '/ui/#/servers');
      await until('both servers, one leading', async () => {
        const rows = await page.locator('[data-testid=servers] tr[data-server]').count();
        const leaders = await page.locator('[data-testid=server-leader]', { hasText: 'leader' }).count();
        return rows === 2 && leaders === 1;
      }, 30000);
      await page.screenshot({ path: `${shots}/cluster-servers.png`, fullPage: true });
    });

    await test('a job run from the server UI is placed, runs, lists its versions, and its alloc logs come through the server', async () => {
      await submitFromUi(page, server, LOG_JOB);
      await page.waitForURL(/#\/job\/ticker$/);
      await until('the alloc to show running', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'running'), 60000);
      // A second submission with a change is version 1.
      const sub = await fetch(server.base + '/v1/jobs', { method: 'POST', body: LOG_JOB.replace('memory = 32', 'memory = 40') });
      if (!sub.ok) throw new Error('resubmit: ' + (await sub.text()));
      await until('two versions', async () => (await page.locator('[data-testid=versions] tr[data-version]').count()) === 2, 20000);
      await page.locator('[data-testid=versions] tr[data-version="0"] [data-testid=show-version]').click();
      const v0 = await textOf(page, '[data-testid=version-json]');
      if (!/"MemoryMB": 32/.test(v0)) throw new Error('version 0 JSON: ' + v0.slice(0, 300));
      // Version 1 says what changed; reverting to version 0 makes version 2 with its memory.
      const changes = await textOf(page, '[data-testid=versions] tr[data-version="1"] [data-testid=version-changes]');
      if (!/MemoryMB: 32 → 40/.test(changes)) throw new Error('version 1 changes: ' + changes);
      // A version tagged by name (Nomad 1.9's job tag apply) shows its tag.
      const tagged = await fetch(server.base + '/v1/job/ticker/versions/golden/tag', { method: 'PUT', body: JSON.stringify({ Version: 0, Description: 'the first' }) });
      if (!tagged.ok) throw new Error('tag: ' + (await tagged.text()));
      await page.reload();
      await until('the tag shown on version 0', async () => await textIs(page, '[data-testid=versions] tr[data-version="0"] [data-testid=version-tag]', 'golden'), 20000);
      await page.locator('[data-testid=versions] tr[data-version="0"] [data-testid=revert]').click();
      await until('version 2, reverted', async () => /MemoryMB: 40 → 32/.test(await textOf(page, '[data-testid=versions] tr[data-version="2"] [data-testid=version-changes]')), 20000);
      await page.screenshot({ path: `${shots}/cluster-job.png`, fullPage: true });
      await until('a running alloc to open', async () => {
        await page.locator('[data-testid=allocs] tr', { has: page.locator('.status.running') }).locator('a').first().click({ timeout: 1000 });
        return true;
      });
      await until('ticks in the log, through the server', async () => /tick \d+/.test(await page.locator('[data-testid=log-tick]').textContent()), 30000);
      // Where the server placed it: the node's scores as `alloc status -verbose` prints them.
      const scores = await textOf(page, '[data-testid=placement-scores]');
      if (!/binpack/.test(scores) || !/final score/.test(scores)) throw new Error('placement scores: ' + scores);
      await page.screenshot({ path: `${shots}/cluster-alloc.png`, fullPage: true });
      // A terminal in the task, through the server, which passes the websocket on to the node.
      const pane = page.locator('[data-testid=exec-tick]');
      await pane.locator('[data-testid=exec-toggle]').click();
      await until('the session to connect through the server', async () => await textIs(pane, '[data-testid=exec-state]', 'connected'));
      await pane.locator('[data-testid=exec-terminal]').click();
      await page.keyboard.type('echo via-server\n');
      const rows = async () => (await pane.locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim());
      await until('a row that says via-server', async () => (await rows()).includes('via-server'));
      await page.keyboard.type('exit 5\n');
      await until('the exit code', async () => await textIs(pane, '[data-testid=exec-state]', 'exited with code 5'));
      await fetch(server.base + '/v1/job/ticker', { method: 'DELETE' });
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
    });

    await test('Dispatch and Periodic force on the server UI launch children through the leader', async () => {
      const sub = await fetch(server.base + '/v1/jobs', { method: 'POST', body: PARAM_JOB });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      await page.goto(server.base + '/ui/#/job/greeter');
      await page.locator('[data-testid=dispatch-form]').waitFor();
      await page.locator('[data-testid=dispatch-meta]').fill('who=cluster');
      await page.locator('[data-testid=dispatch-payload]').fill('through the leader');
      await page.locator('[data-testid=dispatch]').click();
      await page.waitForURL(/#\/job\/greeter%2Fdispatch-/);
      await until('the dispatched alloc to complete', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'complete'), 60000);
      const per = await fetch(server.base + '/v1/jobs', { method: 'POST', body: PERIODIC_JOB });
      if (!per.ok) throw new Error('submit: ' + (await per.text()));
      await page.goto(server.base + '/ui/#/job/nightly');
      await page.locator('[data-testid=periodic-force]').click();
      await until('a periodic child on the server', async () =>
        (await fetch(server.base + '/v1/jobs').then((r) => r.json())).some((j) => j.ID.startsWith('nightly/periodic-')), 20000);
      for (const id of ['greeter', 'nightly']) await fetch(server.base + '/v1/job/' + id, { method: 'DELETE' });
    });

    await test('the job page shows the latest deployment and drives it: pause, resume, promote canaries, fail with a revert', async () => {
      const canaried = (memory) => `job "canaried" {
  group "g" {
    count = 2
    update {
      max_parallel      = 1
      canary            = 1
      min_healthy_time  = "1s"
      healthy_deadline  = "1m"
      progress_deadline = "5m"
      auto_revert       = true
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec sleep 300"]
      }
      resources {
        cpu    = 20
        memory = ${memory}
      }
    }
  }
}
`;
      const submit = async (memory) => {
        const r = await fetch(server.base + '/v1/jobs', { method: 'POST', body: canaried(memory) });
        if (!r.ok) throw new Error('submit: ' + (await r.text()));
      };
      const status = () => textOf(page, '[data-testid=deployment-status]');
      const description = () => textOf(page, '[data-testid=deployment-description]');
      await submit(16);
      await page.goto(server.base + '/ui/#/job/canaried');
      await until('version 0 deployed', async () => await textIs(page, '[data-testid=deployment-status]', 'successful'), 60000);
      if ((await page.locator('[data-testid=deployment] button').count()) !== 0) throw new Error('a finished deployment offers controls');
      // Version 1: a canary beside the old allocs, healthy, waiting for promotion.
      await submit(20);
      await until('the canary to wait for promotion', async () => /requires manual promotion/.test(await description()), 60000);
      await page.locator('[data-testid=deployment-pause]').click();
      await until('paused', async () => await textIs(page, '[data-testid=deployment-status]', 'paused'), 20000);
      if ((await page.locator('[data-testid=deployment-promote]').count()) !== 0) throw new Error('a paused deployment offers Promote');
      // Paused, the canary stays beside the old allocs, still counted.
      await until('the paused canary still counted healthy', async () => await textIs(page, '[data-testid=deployment-healthy]', '1'), 20000);
      await page.screenshot({ path: `${shots}/cluster-deployment-paused.png`, fullPage: true });
      await page.locator('[data-testid=deployment-resume]').click();
      await until('running again', async () => (await status()) === 'running' && (await page.locator('[data-testid=deployment-promote]').count()) === 1, 20000);
      await page.locator('[data-testid=deployment-promote]').click();
      await until('version 1 rolled out', async () => await textIs(page, '[data-testid=deployment-status]', 'successful'), 60000);
      // Version 2, failed by hand: version 1 runs again as version 3.
      await submit(24);
      await until('the new canary', async () => /requires manual promotion/.test(await description()), 60000);
      await page.locator('[data-testid=deployment-fail]').click();
      await until('a new deployment after the revert', async () => {
        const ds = await fetch(server.base + '/v1/job/canaried/deployments').then((r) => r.json());
        return ds.some((d) => d.JobVersion === 2 && d.Status === 'failed' && /rolling back to job version 1/.test(d.StatusDescription));
      }, 20000);
      await until('version 3, memory 20 again', async () => {
        const j = await fetch(server.base + '/v1/job/canaried').then((r) => r.json());
        return j.Version === 3 && j.TaskGroups[0].Tasks[0].Resources.MemoryMB === 20;
      }, 20000);
      await fetch(server.base + '/v1/job/canaried?purge=true', { method: 'DELETE' });
    });

    await test('Plan on the server UI shows what running the file would change, and a group that cannot be placed with the reason; nothing is written', async () => {
      await page.goto(server.base + '/ui/#/submit');
      const planJob = LOG_JOB.replace('"ticker"', '"planned"');
      await page.locator('[data-testid=job-text]').fill(planJob);
      await page.locator('[data-testid=plan-job]').click();
      await until('the plan to say one create', async () => /1 create/.test(await textOf(page, '[data-testid=plan] [data-testid=plan-changes]')));
      if (!(await textOf(page, '[data-testid=plan-placed]')).includes('successfully allocated')) throw new Error('the plan did not say all placed');
      if (!/\+ group g|\+ g/.test(await textOf(page, '[data-testid=plan-diff]'))) throw new Error('the plan shows no added group: ' + (await textOf(page, '[data-testid=plan]')));
      await page.screenshot({ path: `${shots}/cluster-plan.png`, fullPage: true });
      // A job no node has the memory for: the plan says which dimension was exhausted.
      await page.locator('[data-testid=job-text]').fill(planJob.replace('memory = 32', 'memory = 1000000'));
      if ((await page.locator('[data-testid=plan]').count()) !== 0) throw new Error('the old plan stayed after an edit');
      await page.locator('[data-testid=plan-job]').click();
      const failed = await until('the plan to show the unplaceable group', async () => textOf(page, '[data-testid=plan-failed]'));
      if (!/Dimension "memory" exhausted/.test(failed)) throw new Error('plan failure: ' + failed);
      const none = await fetch(server.base + '/v1/job/planned');
      if (none.status !== 404) throw new Error('a plan wrote the job: ' + none.status);
    });

    await test('Run after a Plan is refused when someone changed the job in between, with the server saying so; planned again it runs', async () => {
      const job = LOG_JOB.replace('"ticker"', '"raced"');
      const first = await fetch(server.base + '/v1/jobs', { method: 'POST', body: job });
      if (!first.ok) throw new Error('first submit: ' + (await first.text()));
      await page.goto(server.base + '/ui/#/submit');
      const mine = job.replace('memory = 32', 'memory = 48');
      await page.locator('[data-testid=job-text]').fill(mine);
      await page.locator('[data-testid=plan-job]').click();
      await page.locator('[data-testid=plan]').waitFor();
      // Someone else changes the job after the plan.
      const theirs = await fetch(server.base + '/v1/jobs', { method: 'POST', body: job.replace('memory = 32', 'memory = 40') });
      if (!theirs.ok) throw new Error('their change: ' + (await theirs.text()));
      await page.locator('[data-testid=run-job]').click();
      const refused = await until('the refusal to show', async () => textOf(page, '[data-testid=problems]'));
      if (!/Enforcing job modify index \d+: job exists with conflicting job modify index/.test(refused)) throw new Error('refusal: ' + refused);
      const now = await fetch(server.base + '/v1/job/raced').then((r) => r.json());
      if (now.TaskGroups[0].Tasks[0].Resources.MemoryMB !== 40) throw new Error('the refused run changed the job');
      await page.screenshot({ path: `${shots}/cluster-plan-refused.png`, fullPage: true });
      await page.locator('[data-testid=plan-job]').click();
      await page.locator('[data-testid=plan]').waitFor();
      await page.locator('[data-testid=run-job]').click();
      await page.waitForURL(/#\/job\/raced$/);
      await until('memory 48 stored', async () => (await fetch(server.base + '/v1/job/raced').then((r) => r.json())).TaskGroups[0].Tasks[0].Resources.MemoryMB === 48, 20000);
      // Run from HCL after a plan: the job page shows the HCL.
      await page.locator('[data-testid=show-definition]').click();
      const shown = page.locator('[data-testid=job-definition]');
      await until('the HCL definition', async () => (await shown.getAttribute('data-format')) === 'HCL' && (await shown.textContent()) === mine, 10000);
      await fetch(server.base + '/v1/job/raced?purge=true', { method: 'DELETE' });
    });

    await test('a node whose agent stopped shows down, says since when, and is purged from its page', async () => {
      const gone = await startAgent({ bin, pluginDir, config: 'name: ui-gone\n' + clusterAgentConfig(etcd) });
      await page.goto(server.base + '/ui/#/nodes');
      const row = page.locator('[data-testid=nodes] tr[data-node=ui-gone]');
      await until('the second node to show ready', async () => await textIs(row, '[data-testid=node-status]', 'ready'), 30000);
      await gone.stop();
      await until('the stopped node to show down', async () => await textIs(row, '[data-testid=node-status]', 'down'), 30000);
      await row.locator('a').click();
      await until('its page to say since when', async () => / since /.test(await textOf(page, '[data-testid=node-down]')), 20000);
      if (await page.locator('[data-testid=drain-start]').count()) throw new Error('a down node offers a drain');
      // Its metadata as it last registered; nothing asked of an agent that is gone.
      await page.locator('[data-testid=node-meta-down]').waitFor();
      if (await page.locator('[data-testid=error]').count()) throw new Error('an error on a down node\'s page: ' + (await textOf(page, '[data-testid=error]')));
      await page.screenshot({ path: `${shots}/cluster-node-down.png`, fullPage: true });
      await page.locator('[data-testid=node-purge]').click();
      await until('back on the list without it', async () => page.url().endsWith('#/nodes') && (await row.count()) === 0, 20000);
    });

    await test('a server refuses a name it does not answer to and a cross-origin write', async () => {
      const port = new URL(server.base).port;
      const res = await page.goto(`http://rebind.test:${port}/ui/`);
      if (res.status() !== 403) throw new Error('rebind.test got ' + res.status());
      const r = await fetch(server.base + '/v1/jobs', { method: 'POST', headers: { Origin: 'http://evil.example' }, body: LOG_JOB });
      if (r.status !== 403) throw new Error('cross-origin write got ' + r.status);
    });
  } finally {
    if (page) await page.close();
    if (agent) await agent.stop();
    for (const s of servers) await s.stop();
    await etcd.stop();
  }
} else {
  console.log('skip the cluster UI test: no etcd (Debian etcd-server)');
}

// ---- ACLs on ----
{
  const agent = await startAgent({ bin, pluginDir, config: 'acl:\n  enabled: true\n' });
  const page = await newPage(agent);
  try {
    await test('with ACLs on, a read token sees jobs and cannot stop them', async () => {
      const boot = await until('the bootstrap secret', () => /Secret ID:\s*(\S+)/.exec(agent.output())?.[1]);
      const mgmt = { 'X-Nomad-Token': boot };
      const made = await fetch(agent.base + '/v1/acl/token', {
        method: 'POST',
        headers: mgmt,
        body: JSON.stringify({ Name: 'viewer', Policy: 'read' }),
      }).then((r) => r.json());
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', headers: mgmt, body: LOG_JOB });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      await page.goto(agent.base + '/ui/');
      await page.locator('[data-testid=token-needed]').waitFor();
      await page.locator('[data-testid=token-input]').fill(made.SecretID);
      await page.locator('[data-testid=token-input]').press('Enter');
      await until('the policy to show read', async () => await textIs(page, '[data-testid=token-policy]', 'read'));
      await page.locator('[data-job=ticker]').waitFor();
      await page.goto(agent.base + '/ui/#/job/ticker');
      await until('the alloc to show running', async () => await textIs(page, '[data-testid=allocs] [data-testid=alloc-status]', 'running'));
      const stop = page.locator('[data-testid=stop-job]');
      if (!(await stop.isDisabled())) throw new Error('Stop is enabled for a read token');
      // Nor may it run commands in the task: the alloc page offers no exec pane.
      await page.locator('[data-testid=allocs] a').first().click();
      await page.waitForURL(/#\/alloc\//);
      await page.locator('[data-testid=log-tick]').waitFor();
      if ((await page.locator('[data-testid=exec-tick]').count()) !== 0) throw new Error('a read token is offered exec');
      await page.goto(agent.base + '/ui/#/job/ticker');
      await page.screenshot({ path: `${shots}/job-read-token.png`, fullPage: true });
      // Even with the button forced on, the agent refuses and the page says so.
      await stop.evaluate((b) => (b.disabled = false));
      await stop.click({ force: true });
      const denied = await until('the 403 to show', async () => textOf(page, '[data-testid=denied]'));
      if (!/403/.test(denied) || !/submit/.test(denied)) throw new Error('denied text: ' + denied);
      const job = await fetch(agent.base + '/v1/job/ticker', { headers: mgmt }).then((r) => r.json());
      if (job.Stop) throw new Error('the read token stopped the job');
      await fetch(agent.base + '/v1/job/ticker', { method: 'DELETE', headers: mgmt });
    });

    await test('with ACLs on, the exec pane sends the token in its first message', async () => {
      const boot = /Secret ID:\s*(\S+)/.exec(agent.output())?.[1];
      const mgmt = { 'X-Nomad-Token': boot };
      const sub = await fetch(agent.base + '/v1/jobs', { method: 'POST', headers: mgmt, body: LOG_JOB.replace('"ticker"', '"execacl"') });
      if (!sub.ok) throw new Error('submit: ' + (await sub.text()));
      const alloc = await until('the running alloc', async () =>
        (await fetch(agent.base + '/v1/job/execacl/allocations', { headers: mgmt }).then((r) => r.json())).find((a) => a.ClientStatus === 'running'));
      // The same page (a second one would pass the agent's 12 connections per address while
      // this one still follows its streams): the read token forgotten, the management one used.
      try {
        await page.locator('.token button', { hasText: 'forget' }).click();
        await page.locator('[data-testid=token-input]').fill(boot);
        await page.locator('[data-testid=token-input]').press('Enter');
        await until('the policy to show management', async () => await textIs(page, '[data-testid=token-policy]', 'management'));
        await page.goto(agent.base + '/ui/#/alloc/' + alloc.ID);
        const pane = page.locator('[data-testid=exec-tick]');
        await pane.locator('[data-testid=exec-toggle]').click();
        await until('the session to connect', async () => await textIs(pane, '[data-testid=exec-state]', 'connected'));
        await pane.locator('[data-testid=exec-terminal]').click();
        await page.keyboard.type('echo through-acl; exit 0\n');
        await until('the exit code', async () => await textIs(pane, '[data-testid=exec-state]', 'exited with code 0'));
        // xterm.js renders what it was written on a later frame: the output can reach the
        // screen after the exit code does.
        const rows = async () => (await pane.locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim());
        await until('a row that says through-acl', async () => (await rows()).includes('through-acl'));
        if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
      } finally {
        await fetch(agent.base + '/v1/job/execacl', { method: 'DELETE', headers: mgmt });
      }
    });

    await test('with ACLs on, a JWT signs in through an auth method', async () => {
      const boot = /Secret ID:\s*(\S+)/.exec(agent.output())?.[1];
      const mgmt = { 'X-Nomad-Token': boot, 'Content-Type': 'application/json' };
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const made = async (path, body) => {
        const r = await fetch(agent.base + path, { method: 'POST', headers: mgmt, body: JSON.stringify(body) });
        if (!r.ok) throw new Error(path + ': ' + (await r.text()));
      };
      await made('/v1/acl/policy/viewers', { Rules: 'namespace "default" {\n  policy = "read"\n}\n' });
      await made('/v1/acl/auth-method', {
        Name: 'ci', Type: 'JWT', MaxTokenTTL: '10m', Default: true,
        Config: { JWTValidationPubKeys: [publicKey.export({ type: 'spki', format: 'pem' })], SigningAlgs: ['ES256'], BoundAudiences: ['drover'] },
      });
      await made('/v1/acl/binding-rule', { AuthMethod: 'ci', BindType: 'policy', BindName: 'viewers' });
      // An ES256 JWT made here with node's crypto, not by drover.
      const b64 = (b) => Buffer.from(b).toString('base64url');
      const jwt = (claims) => {
        const input = b64(JSON.stringify({ alg: 'ES256', typ: 'JWT' })) + '.' + b64(JSON.stringify(claims));
        return input + '.' + b64(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      };
      const exp = Math.floor(Date.now() / 1000) + 600;
      await page.locator('.token button', { hasText: 'forget' }).click();
      const form = page.locator('[data-testid=jwt-login]');
      await form.waitFor();
      await form.locator('[data-testid=jwt-input]').fill(jwt({ aud: 'vault', exp }));
      await form.locator('[data-testid=jwt-input]').press('Enter');
      const why = await until('the refusal to show', async () => textOf(page, '[data-testid=jwt-problem]'));
      if (!/aud:/.test(why)) throw new Error('refusal text: ' + why);
      await page.screenshot({ path: `${shots}/jwt-login.png` });
      await form.locator('[data-testid=jwt-input]').fill(jwt({ aud: 'drover', exp, sub: 'ada' }));
      await form.locator('[data-testid=jwt-input]').press('Enter');
      await until('the policy to show client', async () => await textIs(page, '[data-testid=token-policy]', 'client'));
      if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
    });

    await test('with ACLs on, a person signs in through an OIDC provider and back', async () => {
      const boot = /Secret ID:\s*(\S+)/.exec(agent.output())?.[1];
      const mgmt = { 'X-Nomad-Token': boot, 'Content-Type': 'application/json' };
      // The tests' own provider (tests/e2e/oidc_provider.py): it signs alice in at once.
      const dir = mkdtempSync(join(tmpdir(), 'drover-ui-oidc-'));
      const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      writeFileSync(join(dir, 'idp.key'), pem());
      writeFileSync(join(dir, 'other.key'), pem());
      const script = new URL('../../../tests/e2e/oidc_provider.py', import.meta.url).pathname;
      const idp = spawn('/usr/bin/python3', [script, join(dir, 'port'), join(dir, 'idp.key'), join(dir, 'other.key'), 'drover-ui', 'ui-secret'], { stdio: 'ignore' });
      try {
        const port = await until('the provider to start', async () => existsSync(join(dir, 'port')) && readFileSync(join(dir, 'port'), 'utf8'));
        const made = async (path, body) => {
          const r = await fetch(agent.base + path, { method: 'POST', headers: mgmt, body: JSON.stringify(body) });
          if (!r.ok) throw new Error(path + ': ' + (await r.text()));
        };
        await made('/v1/acl/auth-method', {
          Name: 'sso', Type: 'OIDC', MaxTokenTTL: '10m',
          Config: {
            OIDCDiscoveryURL: 'http://127.0.0.1:' + port, OIDCClientID: 'drover-ui', OIDCClientSecret: 'ui-secret', OIDCEnablePKCE: true,
            AllowedRedirectURIs: [agent.base + '/ui/settings/tokens'], ListClaimMappings: { groups: 'groups' },
          },
        });
        await page.locator('.token button', { hasText: 'forget' }).click();
        const signIn = page.locator('[data-testid=oidc-sso]');
        // No rule binds alice yet: she comes back refused, and the page says why.
        await signIn.click();
        const why = await until('the refusal to show', async () => textOf(page, '[data-testid=oidc-problem]'));
        if (!/no binding rule of auth method "sso"/.test(why)) throw new Error('refusal text: ' + why);
        if (new URL(page.url()).pathname !== '/ui/') throw new Error('the address bar kept the callback: ' + page.url());
        await page.screenshot({ path: `${shots}/oidc-login.png` });
        await made('/v1/acl/binding-rule', { AuthMethod: 'sso', BindType: 'policy', BindName: 'viewers', Selector: 'engineering in list.groups' });
        await page.locator('[data-testid=oidc-sso]').click();
        await until('the policy to show client', async () => await textIs(page, '[data-testid=token-policy]', 'client'));
        if (page.cspProblems.length) throw new Error(page.cspProblems.join('\n'));
      } finally {
        idp.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    await page.close();
    await agent.stop();
  }
}

await browser.close();
const failed = results.filter(([, r]) => r !== 'ok');
console.log(`${results.length - failed.length}/${results.length} passed; screenshots in ${shots}`);
process.exit(failed.length ? 1 : 0);
