// Runs the Flow event scripts the way Zoom's script runtime does: each in a fresh vm context
// that holds only var_get, req (post), log (info/warn/error/debug) and the glue that calls
// main(). V8 gives every vm context a console of its own; it is deleted, so a script that
// reaches for console fails here as it would in Zoom.
//   node --test examples/flow-scripts/check.mjs
// Standard library only, so it runs anywhere Node 20 does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const URL_ = "https://flow.example.test/";
const TOKEN = "test-flow-token-not-a-real-secret";
const ID = "VrFJ9xUGT0G1jqJfyL8yCQ";
const COPIED_ID = "copiedAtFlowStart";
const CUSTOM_ID_VAR = "global_custom.zcc.engagement_id";
const SYSTEM_ID_VAR = "global_system.Engagement.engagementId";

const FIXTURE = {
  [SYSTEM_ID_VAR]: ID,
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

const URL_LINE = /^const FLOW_EVENTS_URL = "https:\/\/<your-flow-events-function-url>\/";$/m;
const TOKEN_LINE = /^const FLOW_AUTH_TOKEN = "<the FlowAuthToken you deployed with>";$/m;

function source(file) {
  return readFileSync(new URL(file, import.meta.url), "utf8");
}

// The script as an admin would paste it after setting the two constants (configure: false
// leaves the placeholders in). edit() changes the source first (the console control test).
function load(file, { configure = true, edit = (s) => s } = {}) {
  const text = edit(source(file));
  // The placeholders the admin replaces must be there exactly as documented.
  assert.match(text, URL_LINE, `${file}: FLOW_EVENTS_URL placeholder`);
  assert.match(text, TOKEN_LINE, `${file}: FLOW_AUTH_TOKEN placeholder`);
  if (!configure) return text;
  return text
    .replace(URL_LINE, `const FLOW_EVENTS_URL = ${JSON.stringify(URL_)};`)
    .replace(TOKEN_LINE, `const FLOW_AUTH_TOKEN = ${JSON.stringify(TOKEN)};`);
}

// An axios-like rejection that, like the real one, carries the request config (and the token).
function axiosError(fields) {
  const err = new Error(fields.message || "Request failed");
  err.config = { headers: { Authorization: "Bearer " + TOKEN } };
  return Object.assign(err, fields);
}

// A context with Zoom's globals and nothing else. answers: one entry per req.post call (the
// last one repeats): {status} resolves with it, {reject} rejects with that error, {value}
// resolves with exactly that value.
function sandbox({ vars, answers, calls, logs }) {
  const log = {};
  for (const level of ["info", "warn", "error", "debug"]) {
    log[level] = (...args) => logs.push({ level, line: args.map(String).join(" ") });
  }
  const context = vm.createContext({
    var_get: typeof vars === "function" ? vars : () => vars,
    req: {
      post: async (url, data, config) => {
        calls.push({ url, data, config: JSON.parse(JSON.stringify(config)) });
        const answer = answers[Math.min(calls.length, answers.length) - 1];
        if (answer.reject) throw answer.reject;
        if ("value" in answer) return answer.value;
        return { status: answer.status, data: {} };
      },
    },
    log: Object.freeze(log),
  });
  // The console is V8's, on the context's own global: deleting it from the sandbox object
  // would not remove it.
  vm.runInContext("delete globalThis.console;", context);
  return context;
}

// Results come from the context's realm; compare them as plain JSON.
const plain = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

async function run(file, { vars = FIXTURE, answers = [{ status: 200 }], configure, edit } = {}) {
  const calls = [];
  const logs = [];
  const context = sandbox({ vars, answers, calls, logs });
  assert.equal(vm.runInContext("typeof console", context), "undefined", "no console in the context");
  vm.runInContext(load(file, { configure, edit }), context, { filename: file });
  assert.equal(vm.runInContext("typeof main", context), "function", `${file} defines main()`);
  // The glue: the runtime calls main() and awaits it. It must not throw, whatever happens.
  const result = plain(await vm.runInContext("main()", context, { filename: "glue.js" }));
  for (const { line } of logs) {
    assert.ok(!line.includes(TOKEN), `the token was logged: ${line}`);
    assert.ok(!calls.some((c) => line.includes(c.data)), `the body was logged: ${line}`);
    // main() catches everything, so a missing global would only show up as a log line.
    assert.doesNotMatch(line, /ReferenceError|is not defined/, `the script used a global Zoom lacks: ${line}`);
  }
  const at = (level) => logs.filter((l) => l.level === level).map((l) => l.line);
  return { calls, logs, result, at };
}

// Every way an attempt can fail that is worth a retry.
const RETRYABLE = [
  ["a network error", { reject: axiosError({ code: "ECONNRESET", message: "socket hang up" }) }, undefined],
  ["a timeout", { reject: axiosError({ code: "ECONNABORTED", message: "timeout of 2500ms exceeded" }) }, undefined],
  ["a 503 answer", { status: 503 }, 503],
  ["a 503 rejection", { reject: axiosError({ response: { status: 503 }, message: "Request failed with status code 503" }) }, 503],
];

test("the harness context has no console: a console reference throws ReferenceError", () => {
  const context = sandbox({ vars: {}, answers: [], calls: [], logs: [] });
  assert.throws(
    () => vm.runInContext("console.log(1)", context),
    (err) => err.name === "ReferenceError" && /console/.test(err.message),
  );
  assert.equal(vm.runInContext("'console' in globalThis", context), false);
  assert.deepEqual(Object.keys(context).sort(), ["log", "req", "var_get"], "only Zoom's globals are provided");
});

for (const [file, expected] of Object.entries(SCRIPTS)) {
  test(`${file}: uses only what Zoom's runtime offers`, () => {
    const text = source(file);
    assert.match(text, /^async function main\(\) \{$/m);
    for (const banned of [
      /\bconsole\b/,
      /\brequire\s*\(/,
      /\bfetch\s*\(/,
      /^\s*import\b/m,
      /\bimport\s*\(/,
      /\bprocess\b/,
      /\bsetTimeout\b/,
    ]) {
      assert.doesNotMatch(text, banned);
    }
  });

  test(`${file}: the engagement id variable names are constants at the top`, () => {
    const text = source(file);
    assert.match(text, /^const ENGAGEMENT_ID_CUSTOM_VAR = "global_custom\.zcc\.engagement_id";$/m);
    assert.match(text, /^const ENGAGEMENT_ID_SYSTEM_VAR = "global_system\.Engagement\.engagementId";$/m);
    assert.ok(text.indexOf("ENGAGEMENT_ID_CUSTOM_VAR =") < text.indexOf("async function main"));
  });

  test(`${file}: a stray console reference fails in this harness`, async () => {
    // Control: the same script with one console line must not pass silently.
    const edit = (s) => s.replace(/^async function main\(\) \{$/m, '$&\n  console.log("debug");');
    await assert.rejects(run(file, { edit }), /ReferenceError|is not defined/);
  });

  test(`${file}: posts the Flow JSON with the bearer token`, async () => {
    const before = Date.now();
    const { calls, result, at } = await run(file);
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
    const when = Date.parse(body.occurred_at);
    assert.match(body.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(when >= before - 1 && when <= Date.now() + 1, "occurred_at is now");
    assert.deepEqual(result, { result: "sent", status: 200, attempts: 1 });
    assert.equal(at("info").length, 1, "one info line");
    assert.match(at("info")[0], new RegExp(`^${expected.event}: engagement ${ID}: attempt 1 answered HTTP 200; sent$`));
    assert.deepEqual([...at("warn"), ...at("error")], [], "no warnings or errors");
  });

  test(`${file}: the custom engagement id variable wins over the system one`, async () => {
    const vars = { ...FIXTURE, [CUSTOM_ID_VAR]: COPIED_ID };
    const { calls, result } = await run(file, { vars });
    assert.equal(calls.length, 1);
    assert.equal(JSON.parse(calls[0].data).engagement_id, COPIED_ID);
    assert.equal(result.result, "sent");
  });

  test(`${file}: uses the custom engagement id variable when the system one is empty`, async () => {
    const vars = { ...FIXTURE, [CUSTOM_ID_VAR]: COPIED_ID, [SYSTEM_ID_VAR]: "" };
    const { calls } = await run(file, { vars });
    assert.equal(calls.length, 1);
    assert.equal(JSON.parse(calls[0].data).engagement_id, COPIED_ID);
  });

  for (const [name, custom] of [["unset", undefined], ["empty", ""], ["null", null], ["blank", "  "]]) {
    test(`${file}: falls back to the system engagement id when the custom one is ${name}`, async () => {
      const vars = { ...FIXTURE };
      if (custom !== undefined) vars[CUSTOM_ID_VAR] = custom;
      const { calls, result } = await run(file, { vars });
      assert.equal(calls.length, 1);
      assert.equal(JSON.parse(calls[0].data).engagement_id, ID);
      assert.equal(result.result, "sent");
    });
  }

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

  test(`${file}: reads the custom engagement id from a whole group too`, async () => {
    const vars = {
      global_system: JSON.stringify({ Engagement: { engagementId: ID } }),
      global_custom: JSON.stringify({ zcc: { engagement_id: COPIED_ID } }),
    };
    const { calls } = await run(file, { vars });
    assert.equal(JSON.parse(calls[0].data).engagement_id, COPIED_ID);
  });

  for (const [name, ids] of [
    ["both unset", {}],
    ["both empty", { [CUSTOM_ID_VAR]: "", [SYSTEM_ID_VAR]: "" }],
  ]) {
    test(`${file}: does not post without an engagement id (${name})`, async () => {
      const vars = { ...FIXTURE, ...ids };
      if (!(SYSTEM_ID_VAR in ids)) delete vars[SYSTEM_ID_VAR];
      const { calls, result, at } = await run(file, { vars });
      assert.equal(calls.length, 0);
      assert.deepEqual(result, { result: "skipped", reason: "missing engagement id" });
      assert.equal(at("error").length, 1, "the skip is logged as an error");
      assert.match(at("error")[0], /no engagement id/);
      assert.ok(at("error")[0].includes(CUSTOM_ID_VAR) && at("error")[0].includes(SYSTEM_ID_VAR), "names both variables");
      assert.deepEqual(at("info"), []);
    });
  }

  test(`${file}: does not post while the constants are still placeholders`, async () => {
    const { calls, result, at } = await run(file, { configure: false });
    assert.equal(calls.length, 0);
    assert.deepEqual(result, { result: "skipped", reason: "not configured" });
    assert.equal(at("error").length, 1);
    assert.match(at("error")[0], /FLOW_EVENTS_URL and FLOW_AUTH_TOKEN are not set/);
  });

  for (const [name, first] of RETRYABLE) {
    test(`${file}: retries once with the same body after ${name}`, async () => {
      const { calls, result, at } = await run(file, { answers: [first, { status: 200 }] });
      assert.equal(calls.length, 2);
      assert.equal(calls[1].data, calls[0].data, "identical body, occurred_at included");
      assert.deepEqual(calls[1].config, calls[0].config);
      assert.equal(calls[1].url, calls[0].url);
      assert.deepEqual(result, { result: "sent", status: 200, attempts: 2 });
      assert.equal(at("warn").length, 1, "the failed first attempt is a warning");
      assert.match(at("warn")[0], /attempt 1 .*; retrying$/);
      assert.ok(at("info").some((l) => l.includes("attempt 2 answered HTTP 200")));
      assert.deepEqual(at("error"), []);
    });

    for (const [lastName, last, lastStatus] of RETRYABLE) {
      test(`${file}: gives up after ${name} then ${lastName}, logging an error`, async () => {
        // run() awaits main(): reaching the asserts means main() did not throw.
        const { calls, result, at } = await run(file, { answers: [first, last] });
        assert.equal(calls.length, 2, "exactly two attempts");
        assert.equal(calls[1].data, calls[0].data);
        const want = { result: "failed", attempts: 2 };
        if (lastStatus !== undefined) want.status = lastStatus;
        assert.deepEqual(result, want);
        assert.equal(at("warn").length, 1);
        assert.equal(at("error").length, 1, "the final failure is one error line");
        assert.match(at("error")[0], /attempt 2 .*giving up, not sent$/);
        if (lastStatus) assert.ok(at("error")[0].includes("HTTP " + lastStatus));
        else assert.ok(at("error")[0].includes(last.reject.code), "the error code is logged");
        assert.deepEqual(at("info"), []);
      });
    }
  }

  test(`${file}: retries only once when the 503s go on`, async () => {
    const { calls, logs, result } = await run(file, { answers: [{ status: 503 }] });
    assert.equal(calls.length, 2);
    assert.ok(logs.some((l) => l.line.includes("503")), "the status is logged");
    assert.equal(result.result, "failed");
  });

  test(`${file}: retries an answer that has no status`, async () => {
    const { calls, result, at } = await run(file, { answers: [{ value: undefined }, { status: 200 }] });
    assert.equal(calls.length, 2);
    assert.equal(result.result, "sent");
    assert.match(at("warn")[0], /got no HTTP status; retrying$/);
  });

  for (const [name, first] of [
    ["a 401 answer", { status: 401 }],
    ["a 401 rejection", { reject: axiosError({ response: { status: 401 } }) }],
    ["a 400 rejection", { reject: axiosError({ response: { status: 400 } }) }],
  ]) {
    test(`${file}: does not retry after ${name}`, async () => {
      const status = first.status || first.reject.response.status;
      const { calls, logs, result, at } = await run(file, { answers: [first, { status: 200 }] });
      assert.equal(calls.length, 1);
      assert.ok(logs.some((l) => l.line.includes(String(status))));
      assert.deepEqual(result, { result: "rejected", status, attempts: 1 });
      assert.equal(at("error").length, 1, "a refusal is an error");
      assert.match(at("error")[0], new RegExp(`answered HTTP ${status}; not sent`));
      if (status === 401) assert.match(at("error")[0], /FLOW_AUTH_TOKEN/);
    });
  }

  test(`${file}: never logs the token, even when an error message carries it`, async () => {
    const leaky = axiosError({ code: "EPROTO", message: "bad request with Authorization: Bearer " + TOKEN });
    const { calls, logs } = await run(file, { answers: [{ reject: leaky }] });
    assert.equal(calls.length, 2);
    assert.ok(logs.length >= 2);
    // run() already failed the test if any line held the token; the mask shows instead.
    assert.ok(logs.some((l) => l.line.includes("Bearer <token>")), "the token is masked");
  });

  test(`${file}: an unexpected error is logged, not thrown out of main`, async () => {
    const vars = () => {
      throw new TypeError("variables unavailable");
    };
    const { calls, result, at } = await run(file, { vars });
    assert.equal(calls.length, 0);
    assert.deepEqual(result, { result: "error" });
    assert.equal(at("error").length, 1);
    assert.match(at("error")[0], /unexpected TypeError variables unavailable; not sent$/);
  });
}
