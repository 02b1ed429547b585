// Runs the Flow event scripts against stub Zoom globals (var_get, req.post, console).
//   node --test examples/flow-scripts/check.mjs
// Standard library only, so it runs anywhere Node 20 does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const URL_ = "https://flow.example.test/";
const TOKEN = "test-flow-token-not-a-real-secret";
const ID = "VrFJ9xUGT0G1jqJfyL8yCQ";

const FIXTURE = {
  "global_system.Engagement.engagementId": ID,
  "global_system.Engagement.ANI": "+15550100",
  "global_system.Agent.email": "ana@example.com",
  "global_system.Queue.name": "Sales",
  "global_system.Engagement.disposition": "Resolved",
  "global_custom.Customer.account_number": "42",
  // global_custom.IVR.menu_choice deliberately unset: it must be left out.
};

const SCRIPTS = {
  "engagement-accepted.js": { event: "engagement_accepted", disposition: false },
  "disposition-saved.js": { event: "disposition_saved", disposition: true },
};

function load(file) {
  const source = readFileSync(new URL(file, import.meta.url), "utf8");
  // The placeholders the admin replaces must be there exactly as documented.
  const url = /^const FLOW_EVENTS_URL = "https:\/\/<your-flow-events-function-url>\/";$/m;
  const token = /^const FLOW_AUTH_TOKEN = "<the FlowAuthToken you deployed with>";$/m;
  assert.match(source, url, `${file}: FLOW_EVENTS_URL placeholder`);
  assert.match(source, token, `${file}: FLOW_AUTH_TOKEN placeholder`);
  return source
    .replace(url, `const FLOW_EVENTS_URL = ${JSON.stringify(URL_)};`)
    .replace(token, `const FLOW_AUTH_TOKEN = ${JSON.stringify(TOKEN)};`);
}

// An axios-like rejection that, like the real one, carries the request config (and the token).
function axiosError(fields) {
  const err = new Error(fields.message || "Request failed");
  err.config = { headers: { Authorization: "Bearer " + TOKEN } };
  return Object.assign(err, fields);
}

// answers: one entry per call: {status} resolves, {reject} rejects with that error.
async function run(file, { vars = FIXTURE, answers = [{ status: 200 }] } = {}) {
  const calls = [];
  const logs = [];
  const context = vm.createContext({
    var_get: () => vars,
    req: {
      post: async (url, data, config) => {
        calls.push({ url, data, config: JSON.parse(JSON.stringify(config)) });
        const answer = answers[Math.min(calls.length, answers.length) - 1];
        if (answer.reject) throw answer.reject;
        return { status: answer.status, data: {} };
      },
    },
    console: { log: (...a) => logs.push(a.map(String).join(" ")) },
  });
  vm.runInContext(load(file), context, { filename: file });
  assert.equal(typeof context.main, "function", `${file} defines main()`);
  await context.main();
  for (const line of logs) assert.ok(!line.includes(TOKEN), `the token was logged: ${line}`);
  return { calls, logs };
}

for (const [file, expected] of Object.entries(SCRIPTS)) {
  test(`${file}: uses only what Zoom's runtime offers`, () => {
    const source = readFileSync(new URL(file, import.meta.url), "utf8");
    assert.match(source, /^async function main\(\) \{$/m);
    for (const banned of [/\brequire\s*\(/, /\bfetch\s*\(/, /^\s*import\b/m, /\bimport\s*\(/]) {
      assert.doesNotMatch(source, banned);
    }
  });

  test(`${file}: posts the Flow JSON with the bearer token`, async () => {
    const before = Date.now();
    const { calls, logs } = await run(file);
    assert.equal(calls.length, 1);
    const [{ url, data, config }] = calls;
    assert.equal(url, URL_);
    assert.equal(config.headers.Authorization, "Bearer " + TOKEN);
    assert.equal(config.headers["Content-Type"], "application/json");
    assert.equal(config.timeout, 2500);
    assert.equal(typeof data, "string", "the body is serialized once, before the first attempt");
    const body = JSON.parse(data);
    const want = {
      event: expected.event,
      engagement_id: ID,
      occurred_at: body.occurred_at,
      caller_number: "+15550100",
      agent_email: "ana@example.com",
      queue_name: "Sales",
      variables: { "global_custom.Customer.account_number": "42" },
    };
    if (expected.disposition) want.disposition = "Resolved";
    assert.deepEqual(body, want);
    const at = Date.parse(body.occurred_at);
    assert.match(body.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(at >= before - 1 && at <= Date.now() + 1, "occurred_at is now");
    assert.ok(logs.some((l) => l.includes("200")), "the status is logged");
  });

  test(`${file}: falls back to the custom engagement id variable`, async () => {
    const vars = { ...FIXTURE, "global_custom.zcc.engagement_id": "copiedAtFlowStart" };
    delete vars["global_system.Engagement.engagementId"];
    const { calls } = await run(file, { vars });
    assert.equal(calls.length, 1);
    assert.equal(JSON.parse(calls[0].data).engagement_id, "copiedAtFlowStart");
  });

  test(`${file}: reads variables handed back as whole groups`, async () => {
    const vars = {
      global_system: JSON.stringify({ Engagement: { engagementId: ID, ANI: "+15550100" } }),
      global_custom: { Customer: { account_number: "42" } },
    };
    const { calls } = await run(file, { vars });
    const body = JSON.parse(calls[0].data);
    assert.equal(body.engagement_id, ID);
    assert.equal(body.caller_number, "+15550100");
    assert.equal(body.agent_email, undefined, "unset fields are left out");
    assert.deepEqual(body.variables, { "global_custom.Customer.account_number": "42" });
  });

  test(`${file}: does not post without an engagement id`, async () => {
    const vars = { ...FIXTURE };
    delete vars["global_system.Engagement.engagementId"];
    const { calls, logs } = await run(file, { vars });
    assert.equal(calls.length, 0);
    assert.ok(logs.some((l) => l.includes("no engagement id")), "the skip is logged");
  });

  for (const [name, first] of [
    ["a 503 answer", { status: 503 }],
    ["a 503 rejection", { reject: axiosError({ response: { status: 503 } }) }],
    ["a timeout", { reject: axiosError({ code: "ECONNABORTED", message: "timeout of 2500ms exceeded" }) }],
  ]) {
    test(`${file}: retries once with the same body after ${name}`, async () => {
      const { calls, logs } = await run(file, { answers: [first, { status: 200 }] });
      assert.equal(calls.length, 2);
      assert.equal(calls[1].data, calls[0].data, "identical body, occurred_at included");
      assert.deepEqual(calls[1].config, calls[0].config);
      assert.equal(calls[1].url, calls[0].url);
      assert.ok(logs.some((l) => l.includes("200")));
    });
  }

  test(`${file}: retries only once when the 503s go on`, async () => {
    const { calls, logs } = await run(file, { answers: [{ status: 503 }] });
    assert.equal(calls.length, 2);
    assert.ok(logs.some((l) => l.includes("503")), "the status is logged");
  });

  for (const [name, first] of [
    ["a 401 answer", { status: 401 }],
    ["a 401 rejection", { reject: axiosError({ response: { status: 401 } }) }],
    ["a 400 rejection", { reject: axiosError({ response: { status: 400 } }) }],
  ]) {
    test(`${file}: does not retry after ${name}`, async () => {
      const { calls, logs } = await run(file, { answers: [first, { status: 200 }] });
      assert.equal(calls.length, 1);
      assert.ok(logs.some((l) => l.includes(String(first.status || first.reject.response.status))));
    });
  }
}
