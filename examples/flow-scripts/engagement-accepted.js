// Zoom Contact Center flow event script: "Engagement Accepted" (an agent accepted the engagement).
// Paste into the flow's Start widget > Event Scripts, then set the constants below.
// Runs in Zoom's script runtime, which provides only main() (called by Zoom), var_get(),
// req (axios style) and log (log.info / log.warn / log.error / log.debug, shown in the flow's
// logs). Nothing else is used.

// ---- SET THESE -------------------------------------------------------------------------
// The SAM stack output FlowEventsUrl (`sam list stack-outputs --stack-name <stack>`).
const FLOW_EVENTS_URL = "https://<your-flow-events-function-url>/";
// The FlowAuthToken parameter you deployed the stack with (during a rotation: the NEW one).
const FLOW_AUTH_TOKEN = "<the FlowAuthToken you deployed with>";

// The engagement id. The system variable can read empty where event scripts run, so a Set
// Variable widget right after Start copies global_system.Engagement.engagementId into this
// custom variable (group "zcc", string variable "engagement_id"). It is read first; the
// system variable is only the fallback. With neither set, nothing is sent.
const ENGAGEMENT_ID_CUSTOM_VAR = "global_custom.zcc.engagement_id";
const ENGAGEMENT_ID_SYSTEM_VAR = "global_system.Engagement.engagementId";
const CALLER_NUMBER_VAR = "global_system.Engagement.ANI";
// Zoom publishes no names for these: the ones below are guesses. Pick the real ones in this
// flow's variable picker. A name that does not exist reads as unset and the field is left out.
const AGENT_EMAIL_VAR = "global_system.Agent.email";
const QUEUE_NAME_VAR = "global_system.Queue.name";
// Extra flow variables to send (e.g. what the IVR collected); unset ones are left out.
const VARIABLES = ["global_custom.Customer.account_number", "global_custom.IVR.menu_choice"];
// -----------------------------------------------------------------------------------------

const EVENT = "engagement_accepted";
// A hung connection must not hold the script: at most 2 attempts of 2.5 seconds, no pause.
const ATTEMPTS = 2;
const TIMEOUT_MS = 2500;

// Returns {result: "sent" | "rejected" | "failed" | "skipped" | "error", ...}; never throws.
async function main() {
  try {
    if (FLOW_EVENTS_URL.indexOf("<") >= 0 || !FLOW_AUTH_TOKEN || FLOW_AUTH_TOKEN.indexOf("<the ") === 0) {
      say("error", "FLOW_EVENTS_URL and FLOW_AUTH_TOKEN are not set at the top of the script; not sent");
      return { result: "skipped", reason: "not configured" };
    }
    const vars = var_get() || {};
    let engagementId = readVar(vars, ENGAGEMENT_ID_CUSTOM_VAR);
    if (engagementId === undefined) engagementId = readVar(vars, ENGAGEMENT_ID_SYSTEM_VAR);
    if (engagementId === undefined) {
      // Without an id the event cannot be merged anywhere; the endpoint would only answer 400.
      say("error", "no engagement id in " + ENGAGEMENT_ID_CUSTOM_VAR + " or " + ENGAGEMENT_ID_SYSTEM_VAR + "; not sent");
      return { result: "skipped", reason: "missing engagement id" };
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
      variables: variables,
    });
    return await postWithRetry(body, "engagement " + engagementId);
  } catch (err) {
    say("error", "unexpected " + describe(err) + "; not sent");
    return { result: "error" };
  }
}

// Reads a variable by its full name. var_get() may also hand back a whole group
// (global_system, global_custom) as one object or JSON string, so fall back to walking that.
// Unset, null and empty values read as undefined.
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
  if (typeof value === "string" && value.trim() === "") return undefined;
  return value === null ? undefined : value;
}

// Retries only when it can help: no answer, or a 5xx (e.g. storage briefly down).
// A 4xx (wrong token, bad body) would fail the same way again.
async function postWithRetry(body, what) {
  const config = {
    headers: { Authorization: "Bearer " + FLOW_AUTH_TOKEN, "Content-Type": "application/json" },
    timeout: TIMEOUT_MS,
  };
  let status;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let outcome;
    status = undefined;
    try {
      const answer = await req.post(FLOW_EVENTS_URL, body, config);
      status = answer ? answer.status : undefined;
      outcome = status === undefined ? "got no HTTP status" : "answered HTTP " + status;
    } catch (err) {
      // axios rejects non-2xx answers (err.response) and network errors (no response).
      // Never log err itself: err.config holds the Authorization header.
      status = err && err.response ? err.response.status : undefined;
      outcome = status === undefined ? "failed: " + describe(err) : "answered HTTP " + status;
    }
    const line = what + ": attempt " + attempt + " " + outcome;
    if (status >= 200 && status < 300) {
      say("info", line + "; sent");
      return { result: "sent", status: status, attempts: attempt };
    }
    if (status !== undefined && status < 500) {
      say("error", line + "; not sent" + (status === 401 ? " (FLOW_AUTH_TOKEN does not match the deployed FlowAuthToken)" : ""));
      return { result: "rejected", status: status, attempts: attempt };
    }
    if (attempt < ATTEMPTS) say("warn", line + "; retrying");
    else say("error", line + "; giving up, not sent");
  }
  return { result: "failed", status: status, attempts: ATTEMPTS };
}

// An error's code or message only, never the whole object.
function describe(err) {
  if (!err) return String(err);
  return String(err.code || err.name || "Error") + (err.message ? " " + err.message : "");
}

// Every log line goes through here: prefixed with the event, and the token masked in case an
// error message ever carried it. The body is never logged.
function say(level, message) {
  let line = EVENT + ": " + message;
  if (FLOW_AUTH_TOKEN) line = line.split(FLOW_AUTH_TOKEN).join("<token>");
  log[level](line);
}
