// Zoom Contact Center flow event script: "Disposition Saved" (the agent saved the disposition,
// normally the agent's last action on the engagement).
// Paste into the flow's Start widget > Event Scripts, then set the constants below.
// Runs in Zoom's script runtime: main(), var_get() and req (axios) are provided by Zoom.

// ---- SET THESE -------------------------------------------------------------------------
// The SAM stack output FlowEventsUrl (`sam list stack-outputs --stack-name <stack>`).
const FLOW_EVENTS_URL = "https://<your-flow-events-function-url>/";
// The FlowAuthToken parameter you deployed the stack with (during a rotation: the NEW one).
const FLOW_AUTH_TOKEN = "<the FlowAuthToken you deployed with>";

// Variable names. Zoom does not publish these: the admin MUST check the exact names in this
// flow's variable picker and change them here. A name that does not exist just reads as unset.
const ENGAGEMENT_ID_VARS = [
  "global_system.Engagement.engagementId",
  "global_custom.zcc.engagement_id", // some orgs copy the id here at flow start
];
const CALLER_NUMBER_VAR = "global_system.Engagement.ANI";
const AGENT_EMAIL_VAR = "global_system.Agent.email"; // check the variable list in your flow
const QUEUE_NAME_VAR = "global_system.Queue.name"; // check the variable list in your flow
const DISPOSITION_VAR = "global_system.Engagement.disposition"; // check the variable list in your flow
// Extra flow variables to send (e.g. what the IVR collected); unset ones are left out.
const VARIABLES = ["global_custom.Customer.account_number", "global_custom.IVR.menu_choice"];
// -----------------------------------------------------------------------------------------

const EVENT = "disposition_saved";
// A hung connection must not hold the script; two attempts then stay near 5 seconds.
const TIMEOUT_MS = 2500;

// Reads a variable by its full name. Some admins report (unverified) that var_get() can hand
// back a whole group (global_system, global_custom) as one object or JSON string instead, so
// fall back to walking that.
function readVar(vars, name) {
  let value = vars[name];
  if (value === undefined) {
    const path = name.split(".");
    value = vars[path.shift()];
    if (typeof value === "string") {
      try { value = JSON.parse(value); } catch (e) { value = undefined; }
    }
    while (path.length && value !== undefined && value !== null) value = value[path.shift()];
  }
  return value === null || value === "" ? undefined : value;
}

async function main() {
  const vars = var_get() || {};
  const engagementId = ENGAGEMENT_ID_VARS.map((n) => readVar(vars, n)).find((v) => v !== undefined);
  if (engagementId === undefined) {
    // Without an id the event cannot be merged anywhere; the endpoint would only answer 400.
    console.log(EVENT + ": no engagement id in " + ENGAGEMENT_ID_VARS.join(" or ") + "; not sent");
    return;
  }
  const variables = {};
  for (const name of VARIABLES) {
    const value = readVar(vars, name);
    if (value !== undefined) variables[name] = value;
  }
  // Built once: a retry must send the very same bytes (occurred_at included) so that the
  // endpoint recognises it as a duplicate. JSON.stringify drops unset (undefined) fields.
  const body = JSON.stringify({
    event: EVENT,
    engagement_id: String(engagementId),
    occurred_at: new Date().toISOString(),
    caller_number: readVar(vars, CALLER_NUMBER_VAR),
    agent_email: readVar(vars, AGENT_EMAIL_VAR),
    queue_name: readVar(vars, QUEUE_NAME_VAR),
    disposition: readVar(vars, DISPOSITION_VAR),
    variables: variables,
  });
  await postWithRetry(body);
}

// One retry, only when it can help: no answer, or a 5xx (e.g. storage briefly down).
// A 4xx (wrong token, bad body) would fail the same way again.
async function postWithRetry(body) {
  const config = {
    headers: { Authorization: "Bearer " + FLOW_AUTH_TOKEN, "Content-Type": "application/json" },
    timeout: TIMEOUT_MS,
  };
  for (let attempt = 1; attempt <= 2; attempt++) {
    let status;
    try {
      status = (await req.post(FLOW_EVENTS_URL, body, config)).status;
    } catch (err) {
      // axios rejects non-2xx answers (err.response) and network errors (no response).
      // Log code/message only: err.config would print the Authorization header.
      status = err && err.response ? err.response.status : undefined;
      if (status === undefined) console.log(EVENT + ": attempt " + attempt + " failed: " + (err && (err.code || err.message)));
    }
    if (status !== undefined) console.log(EVENT + ": attempt " + attempt + " answered HTTP " + status);
    if (status !== undefined && status < 500) return;
  }
}
