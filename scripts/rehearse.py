"""The deployment rehearsal (scripts/rehearse): template.yaml transformed by the SAM translator,
its resources created in a moto server with IAM enforced, and each shipped function binary run
under its own role, through the test kit's stand-in Lambda Runtime API, with the environment
the transformed template resolves. Every AWS call the functions make goes through a recording
proxy in front of moto; the rehearsal then checks the calls against the template's policies
itself (moto checks actions only) in both directions, and the environment the code reads
against the environment the template sets.

docs/src/deploying/rehearsal.md says what it proves and what it cannot.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import http.server
import json
import os
import re
import secrets as pyrandom
import shutil
import socket
import socketserver
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws"
STACK = "zcc-rehearsal"

# Parameter values for the rehearsal's stack. Everything else takes its default. Reconcile is
# switched on so its function and role are part of what is deployed (and rehearsed if they
# can run).
PARAMETERS = {
    "ZoomWebhookSecretToken": "rehearsal-zoom-secret-token-" + "k3Zq9",
    "FlowAuthToken": "rehearsal-flow-token-" + "p7Yx2",
    "EnableReconcile": "true",
}

# How each shipped function is driven (the driver's "traffic"). The notifier gets stream
# batches read from the table's stream by the rehearsal's stand-in for Lambda's poller.
TRAFFIC = {
    "zoom-webhook": "webhook",
    "flow-events": "flow",
    "url-validation": "challenge",
    "notify": "stream",
    "reconcile": "reconcile",
}
# The order they run in: the writers first, so the notifier has a stream to read.
ORDER = ["url-validation", "zoom-webhook", "flow-events", "notify", "reconcile"]

# Grants the rehearsal's traffic cannot reach, (function, action) -> why each is still needed.
# Any other grant no call used is a failure (docs/src/deploying/rehearsal.md, "Least
# privilege"). Empty: the traffic drives every granted path, the rare ones too (two long notes
# or Flow variables outgrow the 400 KB state item: the UpdateItem that marks the raw event).
RARE_PATHS: dict[tuple[str, str], str] = {}

# Environment variables the code may read unset, each with why that is right in Lambda.
OPTIONAL_ENV = {
    "SECRET_REFRESH_SECS": "defaults to 300 s (shared/src/edge/secrets.rs)",
    "ZOOM_WEBHOOK_SECRET_TOKEN": "the local alternative to ZOOM_WEBHOOK_SECRET_ARN",
    "FLOW_AUTH_TOKEN": "the local alternative to FLOW_AUTH_TOKEN_SECRET_ARN",
}
# What Lambda itself puts in a function's environment (the Lambda developer guide, "Defined
# runtime environment variables"): read by the runtime client, the SDK and the log setup.
LAMBDA_PROVIDED = {
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_EXECUTION_ENV", "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "_X_AMZN_TRACE_ID", "_HANDLER", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS", "TZ", "LANG",
    "PATH", "LD_LIBRARY_PATH",
}
REHEARSAL_ONLY_ENV = {"LD_PRELOAD", "ZCC_REHEARSE_GETENV_LOG"}
# Endpoint overrides the rehearsal sets, each unset in Lambda (the real endpoints).
ENDPOINT_OVERRIDES = {
    "ZOOM_API_URL": "Zoom's API, the test kit's stand-in here (unset in Lambda: https://api.zoom.us/v2)",
    "ZOOM_OAUTH_URL": "Zoom's OAuth endpoint, the stand-in here (unset in Lambda: Zoom's own)",
}

# Interposes getenv to log each name a function reads (never a value): the names the code
# reads, measured rather than guessed from the source.
GETENV_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
static char *(*real_getenv)(const char *);
static int log_fd = -2;
char *getenv(const char *name) {
    if (!real_getenv) real_getenv = (char *(*)(const char *))dlsym(RTLD_NEXT, "getenv");
    if (log_fd == -2) {
        const char *path = real_getenv("ZCC_REHEARSE_GETENV_LOG");
        log_fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT, 0600) : -1;
    }
    if (log_fd >= 0 && name) {
        char line[256];
        size_t n = strnlen(name, 200);
        memcpy(line, name, n);
        line[n] = '\n';
        (void)!write(log_fd, line, n + 1);
    }
    return real_getenv(name);
}
"""


class RehearsalError(Exception):
    """Something the rehearsal itself could not do (not a finding about the template)."""


# ------------------------------------------------------------------ output


class Report:
    """The rehearsal's account, line by line: to stdout, or to stderr under --json (stdout then
    holds the JSON verdict alone)."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.stream = sys.stdout

    def say(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self.say(f"  FAIL {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.say(f"  WARN {text}")

    def ok(self, text: str) -> None:
        self.say(f"  ok   {text}")


# ------------------------------------------------------------------ the template


def transform(template_path: Path) -> tuple[dict, dict]:
    """The template as CloudFormation receives it after the SAM transform, and the function
    resources' code directories (CodeUri, which the translator wants in S3)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        # Managed policies are only looked up for names given without an ARN; the template
        # names none, so nothing is fetched from IAM.
        def load(self) -> dict:
            return {}

    source = yaml_parse(template_path.read_text())
    code = {}
    for name, resource in source.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = resource["Properties"].get("CodeUri")
            code[name] = uri
            resource["Properties"]["CodeUri"] = f"s3://rehearsal/{uri}"
    declared = set(source.get("Parameters", {}))
    values = {k: v for k, v in PARAMETERS.items() if k in declared}
    return sam_transform(source, values, NoManagedPolicies()), code


class Unresolvable(Exception):
    pass


NO_VALUE = object()


class Resolver:
    """Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join, Fn::Select and conditions, resolved against
    the parameters and the resources created in moto."""

    def __init__(self, template: dict) -> None:
        self.template = template
        self.params = {}
        for name, p in template.get("Parameters", {}).items():
            self.params[name] = str(PARAMETERS.get(name, p.get("Default", "")))
        self.refs: dict[str, str] = {}
        self.atts: dict[tuple[str, str], str] = {}
        self.conditions: dict[str, bool] = {}

    def pseudo(self, name: str):
        return {
            "AWS::StackName": STACK,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name], cond=True))
        return self.conditions[name]

    def ref(self, name: str):
        p = self.pseudo(name)
        if p is not None:
            return p
        if name in self.params:
            return self.params[name]
        if name in self.refs:
            return self.refs[name]
        raise Unresolvable(f"Ref {name}")

    def getatt(self, name: str, att: str) -> str:
        if (name, att) in self.atts:
            return self.atts[(name, att)]
        raise Unresolvable(f"GetAtt {name}.{att}")

    def sub(self, text: str, extra: dict) -> str:
        def one(m: re.Match) -> str:
            key = m.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in extra:
                return str(extra[key])
            if "." in key:
                return self.getatt(*key.split(".", 1))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def value(self, node, cond: bool = False):
        if isinstance(node, list):
            return [v for v in (self.value(x, cond) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, att = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.getatt(name, att)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                return self.sub(arg[0], {k: self.value(v) for k, v in arg[1].items()})
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2], cond)
            if key == "Fn::Join":
                return arg[0].join(str(x) for x in self.value(arg[1]))
            if key == "Fn::Select":
                return self.value(arg[1])[int(self.value(arg[0]))]
            if key == "Fn::Equals":
                a, b = (self.value(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.value(arg[0], True)
            if key == "Fn::Or":
                return any(self.value(x, True) for x in arg)
            if key == "Fn::And":
                return all(self.value(x, True) for x in arg)
            if key == "Condition" and cond:
                return self.condition(arg)
        return {k: v for k, v in ((k, self.value(v, cond)) for k, v in node.items()) if v is not NO_VALUE}

    def active(self, resource: dict) -> bool:
        c = resource.get("Condition")
        return c is None or self.condition(c)


# ------------------------------------------------------------------ moto and the recording proxy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Call:
    who: str
    service: str
    action: str
    params: dict
    status: int
    error: str
    resource: str = ""


class Recorder:
    """The calls that went through the proxy, attributed by the access key that signed them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.keys: dict[str, str] = {}
        self.iterators: dict[str, str] = {}


def start_proxy(moto: str, recorder: Recorder) -> tuple[str, socketserver.BaseServer]:
    upstream = urllib.parse.urlparse(moto)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # the calls are recorded, not logged
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for k, v in answer.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()
            try:
                record(self.headers, body, answer.status, data)
            except Exception as e:  # recording must never break the call
                print(f"rehearse: could not record a call: {e}", file=sys.stderr)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    def record(headers, body: bytes, status: int, data: bytes) -> None:
        auth = headers.get("Authorization", "")
        m = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", auth)
        if not m:
            return
        key, service = m.group(1), m.group(2)
        target = headers.get("X-Amz-Target")
        params: dict = {}
        if target:
            action = target.split(".")[-1]
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
        else:
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            params = {k: v[0] for k, v in form.items()}
            action = params.get("Action", "?")
        error = ""
        if status >= 400:
            try:
                error = json.loads(data).get("__type", "").split("#")[-1]
            except ValueError:
                m2 = re.search(rb"<Code>([^<]+)</Code>", data)
                error = m2.group(1).decode() if m2 else f"HTTP {status}"
        with recorder.lock:
            if status < 400 and action in ("GetShardIterator", "GetRecords"):
                try:
                    answer = json.loads(data)
                    stream = params.get("StreamArn") or recorder.iterators.get(params.get("ShardIterator", ""), "")
                    for k in ("ShardIterator", "NextShardIterator"):
                        if answer.get(k):
                            recorder.iterators[answer[k]] = stream
                except ValueError:
                    pass
            recorder.calls.append(Call(recorder.keys.get(key, key), service, action, params, status, error))

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def start_moto(log: Path, no_auth_count: int) -> tuple[str, subprocess.Popen]:
    port = free_port()
    # The AWS managed policies (the basic execution role, X-Ray) are loaded only on request.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(no_auth_count), MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return url, proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RehearsalError(f"moto_server did not start (log: {log})")


def moto_auth_after(moto: str, free_actions: int) -> None:
    """Lets the next `free_actions` actions through unauthenticated, then enforces IAM again."""
    req = urllib.request.Request(f"{moto}/moto-api/reset-auth", data=str(free_actions).encode(), method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=5).read()


# ------------------------------------------------------------------ policies


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def glob(pattern: str, value: str, fold: bool = False) -> bool:
    rx = "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"
    return re.match(rx, value, re.IGNORECASE if fold else 0) is not None


def statements(doc: dict) -> list[dict]:
    return as_list(doc.get("Statement", []))


def evaluate(policies: list[tuple[str, dict]], action: str, resource: str) -> tuple[str, str]:
    """IAM's evaluation of identity policies: an explicit Deny wins, else an Allow, else the
    implicit deny. Returns (decision, why). A statement with a Condition cannot be decided from
    a recorded call: it is reported as such."""
    allowed_by = ""
    for name, doc in policies:
        for st in statements(doc):
            if "NotAction" in st:
                acts = not any(glob(a, action, True) for a in as_list(st["NotAction"]))
            else:
                acts = any(glob(a, action, True) for a in as_list(st.get("Action", [])))
            if "NotResource" in st:
                res = not any(glob(r, resource) for r in as_list(st["NotResource"]))
            else:
                res = any(glob(r, resource) for r in as_list(st.get("Resource", [])))
            if not (acts and res):
                continue
            if st.get("Condition"):
                return "undecided", f"{name} has a Condition the rehearsal cannot evaluate"
            if st.get("Effect") == "Deny":
                return "denied", f"explicit Deny in {name}"
            allowed_by = allowed_by or name
    if allowed_by:
        return "allowed", f"allowed by {allowed_by}"
    return "denied", "no statement allows it"


def action_view(doc: dict) -> dict:
    """The policy as moto can enforce it: the same actions on every resource. moto compares a
    DynamoDB, Secrets Manager or EventBridge request with the resource "*", so a statement
    naming an ARN would never match there; the resources are checked by `evaluate` instead."""
    out = copy.deepcopy(doc)
    for st in statements(out):
        if st.get("Effect") == "Allow":
            st.pop("NotResource", None)
            st["Resource"] = "*"
            st.pop("Condition", None)
    return out


# ------------------------------------------------------------------ deploying into moto


@dataclass
class Function:
    logical: str
    binary: str
    role_logical: str
    env: dict


def suffix() -> str:
    return "".join(pyrandom.choice(string.ascii_uppercase + string.digits) for _ in range(12))


class Deployment:
    def __init__(self, template: dict, endpoint: str, report: Report) -> None:
        import boto3

        self.template = template
        self.r = Resolver(template)
        self.report = report
        self.endpoint = endpoint
        self.boto3 = boto3
        self.session = None
        self.secret_values: dict[str, str] = {}
        self.queue_arns: dict[str, str] = {}

    def client(self, service: str, creds: dict | None = None):
        creds = creds or self.admin
        return self.boto3.client(
            service, region_name=REGION, endpoint_url=self.endpoint,
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
        )

    def bootstrap_admin(self, moto_direct: str) -> None:
        """The first three actions, which moto lets through unauthenticated: a user that may do
        everything, for setting up the stack (CloudFormation's part in a real deploy)."""
        iam = self.boto3.client("iam", region_name=REGION, endpoint_url=moto_direct,
                                aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="rehearsal-deployer")
        iam.put_user_policy(UserName="rehearsal-deployer", PolicyName="deploy", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="rehearsal-deployer")["AccessKey"]
        self.admin = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}

    def resources(self, kind: str) -> list[tuple[str, dict]]:
        return [(n, r) for n, r in self.template["Resources"].items()
                if r["Type"] == kind and self.r.active(r)]

    def create(self) -> None:
        say = self.report.say
        r = self.r
        # Resources the functions never touch still resolve (a Ref in an environment, say).
        for name, res in self.resources("AWS::Logs::LogGroup"):
            r.refs[name] = r.value(res["Properties"].get("LogGroupName", f"{STACK}-{name}"))

        sm = self.client("secretsmanager")
        for name, res in self.resources("AWS::SecretsManager::Secret"):
            p = r.value(res["Properties"])
            value = p.get("SecretString") or f"rehearsal-value-{name}"
            arn = sm.create_secret(Name=p["Name"], Description=p.get("Description", ""), SecretString=value)["ARN"]
            r.refs[name] = arn
            r.atts[(name, "Id")] = arn
            self.secret_values[arn] = value
            say(f"  secret   {name}: {p['Name']} ({arn})")

        ddb = self.client("dynamodb")
        for name, res in self.resources("AWS::DynamoDB::Table"):
            p = r.value(res["Properties"])
            table = p.get("TableName") or f"{STACK}-{name}-{suffix()}"
            args = {
                "TableName": table,
                "AttributeDefinitions": p["AttributeDefinitions"],
                "KeySchema": p["KeySchema"],
                "BillingMode": p.get("BillingMode", "PROVISIONED"),
            }
            if p.get("GlobalSecondaryIndexes"):
                args["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
            if p.get("StreamSpecification"):
                args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
            if p.get("SSESpecification"):
                args["SSESpecification"] = {"Enabled": p["SSESpecification"].get("SSEEnabled", False)}
            if "DeletionProtectionEnabled" in p:
                args["DeletionProtectionEnabled"] = p["DeletionProtectionEnabled"]
            d = ddb.create_table(**args)["TableDescription"]
            if p.get("TimeToLiveSpecification"):
                ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=p["TimeToLiveSpecification"])
            if p.get("PointInTimeRecoverySpecification"):
                ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]})
            r.refs[name] = table
            r.atts[(name, "Arn")] = d["TableArn"]
            if d.get("LatestStreamArn"):
                r.atts[(name, "StreamArn")] = d["LatestStreamArn"]
            self.check_table(ddb, table, p)

        ev = self.client("events")
        for name, res in self.resources("AWS::Events::EventBus"):
            p = r.value(res["Properties"])
            arn = ev.create_event_bus(Name=p["Name"])["EventBusArn"]
            r.refs[name] = p["Name"]
            r.atts[(name, "Arn")] = arn
            r.atts[(name, "Name")] = p["Name"]
            say(f"  bus      {name}: {p['Name']}")

        sqs = self.client("sqs")
        for name, res in self.resources("AWS::SQS::Queue"):
            p = r.value(res.get("Properties", {}))
            qname = p.get("QueueName") or f"{STACK}-{name}-{suffix()}"
            attrs = {k: str(p[k]).lower() if isinstance(p[k], bool) else str(p[k])
                     for k in ("MessageRetentionPeriod", "SqsManagedSseEnabled", "VisibilityTimeout") if k in p}
            url = sqs.create_queue(QueueName=qname, Attributes=attrs)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            r.refs[name] = url
            r.atts[(name, "Arn")] = arn
            r.atts[(name, "QueueName")] = qname
            r.atts[(name, "QueueUrl")] = url
            self.queue_arns[url] = arn
            say(f"  queue    {name}: {qname}")

    def check_table(self, ddb, table: str, p: dict) -> None:
        """The table moto holds is the one declared: keys, indexes, stream and TTL."""
        d = ddb.describe_table(TableName=table)["Table"]
        ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        problems = []
        if d["KeySchema"] != p["KeySchema"]:
            problems.append("key schema")
        want_ix = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in p.get("GlobalSecondaryIndexes", [])}
        got_ix = {i["IndexName"]: (i["KeySchema"], {"ProjectionType": i["Projection"]["ProjectionType"]})
                  for i in d.get("GlobalSecondaryIndexes", [])}
        if want_ix != got_ix:
            problems.append(f"indexes {sorted(got_ix)} (declared {sorted(want_ix)})")
        spec = p.get("StreamSpecification")
        if spec and d.get("StreamSpecification", {}).get("StreamViewType") != spec["StreamViewType"]:
            problems.append("stream view type")
        want_ttl = p.get("TimeToLiveSpecification")
        if want_ttl and (ttl.get("AttributeName") != want_ttl["AttributeName"] or ttl.get("TimeToLiveStatus") != "ENABLED"):
            problems.append("TTL")
        if problems:
            self.report.fail(f"table {table} in moto differs from the template: {', '.join(problems)}")
        else:
            self.report.say(
                f"  table    {table}: keys {'/'.join(k['AttributeName'] for k in d['KeySchema'])}, "
                f"indexes {', '.join(sorted(got_ix))}, stream {spec['StreamViewType'] if spec else 'none'}, "
                f"TTL on {want_ttl['AttributeName'] if want_ttl else '-'}: as declared")

    def roles(self) -> dict[str, dict]:
        """Every role with exactly the template's trust policy, managed policies and inline
        policies (SAM's policy templates as the translator expanded them)."""
        iam = self.client("iam")
        out = {}
        for name, res in self.resources("AWS::IAM::Role"):
            try:
                p = self.r.value(res["Properties"])
            except Unresolvable as e:
                # A role for a resource the rehearsal does not create (a schedule's target, a
                # delivery stream's): not a function's role.
                self.report.say(f"  role     {name}: not created ({e} is not deployed in the rehearsal)")
                continue
            rname = p.get("RoleName") or f"{STACK}-{name}-{suffix()}"[:64]
            arn = iam.create_role(RoleName=rname, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]))["Role"]["Arn"]
            inline = []
            for pol in p.get("Policies", []):
                doc = pol["PolicyDocument"]
                # Exactly the template's document first: moto validates its grammar. SAM writes
                # no Version; IAM then reads it as 2008-10-17 (no policy variables, which these
                # documents do not use), moto refuses it: it gets the current version.
                if "Version" not in doc:
                    doc = {"Version": "2012-10-17", **doc}
                iam.put_role_policy(RoleName=rname, PolicyName=pol["PolicyName"], PolicyDocument=json.dumps(doc))
                inline.append((pol["PolicyName"], doc))
            managed = []
            for m in p.get("ManagedPolicyArns", []):
                try:
                    iam.attach_role_policy(RoleName=rname, PolicyArn=m)
                    managed.append(m)
                except Exception as e:
                    self.report.warn(f"role {name}: moto could not attach {m} ({e.__class__.__name__})")
            self.r.refs[name] = rname
            self.r.atts[(name, "Arn")] = arn
            self.r.atts[(name, "RoleId")] = rname
            out[name] = {"name": rname, "arn": arn, "inline": inline, "managed": managed,
                         "trust": p["AssumeRolePolicyDocument"]}
            self.report.say(f"  role     {name}: {len(inline)} inline, {len(managed)} managed ({', '.join(x.split('/')[-1] for x in managed)})")
        return out

    def moto_views(self, roles: dict) -> None:
        iam = self.client("iam")
        for info in roles.values():
            for pname, doc in info["inline"]:
                iam.put_role_policy(RoleName=info["name"], PolicyName=pname, PolicyDocument=json.dumps(action_view(doc)))

    def functions(self, code: dict) -> list[Function]:
        out = []
        for name, res in self.resources("AWS::Lambda::Function"):
            p = res["Properties"]
            binary = (res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                      or Path(code.get(name, name)).name)
            role = p["Role"]["Fn::GetAtt"]
            role = role.split(".")[0] if isinstance(role, str) else role[0]
            out.append(Function(name, binary, role, p.get("Environment", {}).get("Variables", {})))
            # Not created in moto (the binaries run outside it), but named, for what refers to
            # them (the stream mapping, a schedule).
            fname = f"{STACK}-{name}-{suffix()}"[:64]
            self.r.refs[name] = fname
            self.r.atts[(name, "Arn")] = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{fname}"
        return out

    def assume(self, moto_direct: str, role_arn: str, session: str) -> dict:
        """The role's temporary credentials, as Lambda gets them for the function. Lambda's
        service principal is what the trust policy names; moto cannot sign as a service, so
        this one action is let through unauthenticated (the trust policy is checked by
        `check_trust` instead)."""
        moto_auth_after(moto_direct, 1)
        sts = self.boto3.client("sts", region_name=REGION, endpoint_url=moto_direct,
                                aws_access_key_id="x", aws_secret_access_key="x")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        return {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def check_trust(report: Report, fn: str, trust: dict) -> None:
    ok = any(
        st.get("Effect") == "Allow"
        and any(glob(a, "sts:AssumeRole", True) for a in as_list(st.get("Action", [])))
        and "lambda.amazonaws.com" in as_list(st.get("Principal", {}).get("Service", []))
        for st in statements(trust)
    )
    if ok:
        report.ok(f"trust policy lets lambda.amazonaws.com assume the role")
    else:
        report.fail(f"{fn}: the role's trust policy does not let lambda.amazonaws.com assume it")


# ------------------------------------------------------------------ resources of recorded calls


def resource_of(call: Call, dep: Deployment, recorder: Recorder) -> str:
    p = call.params
    arn = f"arn:{PARTITION}:{{}}:{REGION}:{ACCOUNT}:{{}}"
    if call.service == "dynamodb":
        if call.action in ("DescribeStream", "GetShardIterator"):
            return p.get("StreamArn", "*")
        if call.action == "GetRecords":
            return recorder.iterators.get(p.get("ShardIterator", ""), "*")
        if call.action == "ListStreams":
            return arn.format("dynamodb", f"table/{p['TableName']}/stream/*") if p.get("TableName") else "*"
        table = p.get("TableName")
        if call.action in ("Query", "Scan") and p.get("IndexName"):
            return arn.format("dynamodb", f"table/{table}/index/{p['IndexName']}")
        if not table and p.get("RequestItems"):
            table = next(iter(p["RequestItems"]))
        return arn.format("dynamodb", f"table/{table}") if table else "*"
    if call.service == "secretsmanager":
        sid = p.get("SecretId", "*")
        if sid.startswith("arn:"):
            return sid
        for a in dep.secret_values:
            if a.split(":secret:")[1].rsplit("-", 1)[0] == sid:
                return a
        return arn.format("secretsmanager", f"secret:{sid}")
    if call.service == "events":
        buses = {e.get("EventBusName", "default") for e in p.get("Entries", [])} or {"default"}
        bus = sorted(buses)[0]
        return bus if bus.startswith("arn:") else arn.format("events", f"event-bus/{bus}")
    if call.service == "sqs":
        url = p.get("QueueUrl", "")
        return dep.queue_arns.get(url) or arn.format("sqs", url.rsplit("/", 1)[-1])
    return "*"


# ------------------------------------------------------------------ the notifier's stream


def matches_pattern(pattern, value) -> bool:
    """Lambda's event filtering for the patterns the template uses: exact values in lists,
    nested objects."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches_pattern(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return pattern == value


def poll_stream(dep: Deployment, creds: dict, table: str, mapping: dict) -> tuple[list[dict], int]:
    """Lambda's poller for the notifier's stream mapping, under the function's role as Lambda
    polls: ListStreams, DescribeStream, GetShardIterator, GetRecords; the mapping's filter
    applied; batches of its BatchSize as the Lambda DynamoDB event."""
    streams = dep.client("dynamodbstreams", creds)
    arns = [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]]
    source = mapping.get("EventSourceArn")
    if source not in arns:
        raise RehearsalError(f"the stream mapping's source {source} is not among the table's streams {arns}")
    shards = streams.describe_stream(StreamArn=source)["StreamDescription"]["Shards"]
    records = []
    for shard in shards:
        it = streams.get_shard_iterator(StreamArn=source, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            got = streams.get_records(ShardIterator=it, Limit=1000)
            records.extend(got["Records"])
            it = got.get("NextShardIterator") if got["Records"] else None
    filters = [json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
    kept = []
    for rec in records:
        rec = json.loads(json.dumps(rec, default=lambda d: d.timestamp() if hasattr(d, "timestamp") else str(d)))
        rec["eventSourceARN"] = source
        if not filters or any(matches_pattern(f, rec) for f in filters):
            kept.append(rec)
    size = int(mapping.get("BatchSize", 100))
    return [{"Records": kept[i:i + size]} for i in range(0, len(kept), size)], len(records)


# ------------------------------------------------------------------ the run


def cargo_target_dir() -> Path:
    t = os.environ.get("CARGO_TARGET_DIR")
    return Path(t) if t else ROOT / "target"


def build(binaries: list[str], report: Report) -> float:
    # Two builds: the functions on their own, so that cargo resolves their features without
    # the test kit's (which would add the embedded store to them; `sam build` builds each alone).
    functions = ["cargo", "build", "--locked"]
    for b in binaries:
        if (ROOT / "functions" / b).is_dir():
            functions += ["-p", b]
    driver = ["cargo", "build", "--locked", "-p", "zcc-testkit", "--example", "rehearse"]
    started = time.time()
    for cmd in (functions, driver):
        report.say(f"== build: {' '.join(cmd)}")
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            raise RehearsalError("the build failed (above): fix it, or rehearse the binaries built before with --no-build")
    took = time.time() - started
    report.say(f"   built in {took:.0f} s")
    return took


def compile_shim(out: Path) -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src = out / "getenv-log.c"
    lib = out / "getenv-log.so"
    src.write_text(GETENV_SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(src), "-ldl"], check=True)
    return lib


def source_env_names() -> set[str]:
    """Every NAME_LIKE_THIS string literal in the shipped code: the variables the project
    itself defines (as opposed to those a library reads)."""
    names = set()
    for d in ["shared/src", "shared/domain/src", "functions"]:
        for f in (ROOT / d).rglob("*.rs"):
            if "/tests/" in str(f):
                continue
            names.update(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', f.read_text(errors="replace")))
    return names


def secret_texts(values: dict[str, str]) -> list[str]:
    """Every secret's value, and each field of a JSON one: what no log may hold."""
    texts = []
    for value in values.values():
        texts.append(value)
        try:
            texts.extend(str(v) for v in json.loads(value).values())
        except (ValueError, AttributeError):
            pass
    return [t for t in texts if len(t) >= 8]


def run_function(fn: Function, env: dict, traffic: str, extra: dict, out: Path, driver: Path, report: Report,
                 secrets: list[str]) -> bool:
    spec = {"binary": str(cargo_target_dir() / "debug" / fn.binary), "function": fn.binary, "env": env,
            "traffic": traffic, "logs": str(out / f"{fn.binary}.log"), **extra}
    spec_path = out / f"{fn.binary}.spec.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([str(driver), str(spec_path)], capture_output=True, text=True, timeout=600)
    answers = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    good = sum(1 for a in answers if a["ok"])
    bad = [a for a in answers if not a["ok"]]
    if bad:
        first = bad[0]
        report.fail(f"{fn.binary}: {len(bad)} of {len(answers)} invocations answered otherwise than expected; "
                    f"first, {first['label']}: expected {first['expected']}, answered {json.dumps(first['answer'])[:300]}")
    log = out / f"{fn.binary}.log"
    if log.exists():
        text = log.read_text(errors="replace")
        if any(secret in text for secret in secrets):
            report.fail(f"{fn.binary} logged a secret's value (see {log})")
    if proc.returncode == 2 or not answers:
        report.fail(f"{fn.binary}: the driver failed: {proc.stderr.strip()[-500:]}")
        return False
    report.say(f"  {len(answers)} invocations, {good} answered as expected "
               f"({', '.join(sorted({a['label'].split(' ')[0] for a in answers}))}; log: {out / (fn.binary + '.log')})")
    return good == len(answers)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="scripts/rehearse", description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", metavar="PATH", default=str(ROOT / "template.yaml"),
                    help="the SAM template to rehearse (default: template.yaml)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--out", metavar="DIR",
                    help="keep the logs and the driver's inputs here (default: a temporary directory, "
                         "removed after a pass)")
    ap.add_argument("--json", action="store_true",
                    help="the account on stderr; on stdout one JSON object: verdict, failures, calls")
    ap.epilog = ("--self-test: the rehearsal must fail, naming dynamodb:PutItem, on a copy of the "
                 "template without it. Exit status: 0 passed, 1 a finding, 2 the rehearsal could not run.")
    args = ap.parse_args(argv)
    report = Report()
    if args.json:
        report.stream = sys.stderr
    started = time.time()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="zcc-rehearse-"))
    out.mkdir(parents=True, exist_ok=True)

    report.say(f"== transform {args.template} (SAM translator)")
    if not Path(args.template).is_file():
        raise RehearsalError(f"no template at {args.template}")
    from samtranslator.model.exceptions import InvalidDocumentException
    try:
        template, code = transform(Path(args.template))
    except InvalidDocumentException as e:
        # What CloudFormation's transform would refuse: the deploy fails before anything runs.
        for cause in e.causes:
            report.fail(f"the SAM translator refuses the template: {cause.message}")
        report.say("== rehearsal FAILED: the template does not transform")
        return 1
    functions_all = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    report.say(f"   {len(template['Resources'])} resources, functions: {', '.join(functions_all)}")

    binaries = []
    # Every binary the template names that the rehearsal can drive.
    for n in functions_all:
        res = template["Resources"][n]
        b = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary") or Path(code.get(n, n)).name
        if b in TRAFFIC and (ROOT / "functions" / b).is_dir():
            binaries.append(b)
    if not args.no_build:
        # The build is not the rehearsal: its time is left out of the rehearsal's.
        started += build(binaries, report)
    driver = cargo_target_dir() / "debug" / "examples" / "rehearse"
    if not driver.exists():
        raise RehearsalError(f"no driver at {driver}: build it with cargo build -p zcc-testkit --example rehearse")
    shim = compile_shim(out)

    recorder = Recorder()
    moto_direct, moto = start_moto(out / "moto.log", 3)
    proxy_url, proxy = start_proxy(moto_direct, recorder)
    try:
        status = rehearse(args, report, template, code, out, recorder, moto_direct, proxy_url, driver, shim, started)
    finally:
        proxy.shutdown()
        moto.terminate()
        moto.wait(timeout=10)
    if status == 0 and not args.out:
        # A pass leaves nothing behind; a failure keeps its logs for reading.
        shutil.rmtree(out, ignore_errors=True)
    return status


def rehearse(args, report, template, code, out, recorder, moto_direct, proxy_url, driver, shim, started) -> int:
    dep = Deployment(template, proxy_url, report)
    report.say(f"== deploy into moto {moto_direct} (IAM enforced: INITIAL_NO_AUTH_ACTION_COUNT=3, "
               f"the three actions that create the deploying user)")
    dep.bootstrap_admin(moto_direct)
    recorder.keys[dep.admin["AccessKeyId"]] = "deployer"
    dep.create()
    # The functions are named first: a role may refer to one (the scheduler's invokes reconcile).
    functions = dep.functions(code)
    roles = dep.roles()

    # ---- what moto's IAM evaluates, found out rather than assumed
    report.say("== moto's IAM: what it checks")
    iam = dep.client("iam")
    table_arn = dep.r.getatt("EventsTable", "Arn")
    table = dep.r.ref("EventsTable")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    probes = {
        "resource": {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": table_arn},
        "condition": {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": "*",
                      "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-north-1"}}},
        "action": {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": "*"},
    }
    moto_checks = {}
    for kind, st in probes.items():
        arn = iam.create_role(RoleName=f"rehearsal-probe-{kind}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"rehearsal-probe-{kind}", PolicyName="probe",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [st]}))
        creds = dep.assume(moto_direct, arn, "probe")
        recorder.keys[creds["AccessKeyId"]] = f"probe-{kind}"
        try:
            dep.client("dynamodb", creds).describe_table(TableName=table)
            moto_checks[kind] = True
        except Exception:
            moto_checks[kind] = False
    if not moto_checks["action"]:
        raise RehearsalError("moto denied an action its policy allows on every resource: IAM setup is broken")
    if moto_checks["resource"]:
        report.say("  moto matched a statement naming the table's ARN: it checks DynamoDB resources")
    else:
        report.say("  moto DENIED DescribeTable to a role allowed it on the table's ARN: moto compares "
                   "DynamoDB (and Secrets Manager, EventBridge) requests with the resource \"*\", so it "
                   "checks actions only. The roles get each statement's actions on \"*\" in moto; the "
                   "resources are checked by the rehearsal (below).")
    report.say("  moto " + ("ALLOWED" if moto_checks["condition"] else "denied")
               + " DescribeTable to a role allowed it only under a Condition that does not hold "
               + "(aws:RequestedRegion eu-north-1, the call is in " + REGION + "): "
               + ("it ignores conditions." if moto_checks["condition"] else "it evaluates this one."))
    if not moto_checks["resource"]:
        dep.moto_views(roles)

    env_names = source_env_names()
    by_binary = {}
    skipped = []
    for fn in functions:
        binary_path = cargo_target_dir() / "debug" / fn.binary
        if fn.binary not in TRAFFIC or not binary_path.exists():
            why = (f"the rehearsal has no traffic for {fn.binary}: add it to TRAFFIC in scripts/rehearse.py"
                   if fn.binary not in TRAFFIC else f"no binary at {binary_path} (cargo build -p {fn.binary})")
            skipped.append((fn, why))
            continue
        by_binary[fn.binary] = fn
    for fn, why in skipped:
        report.say("")
        report.say(f"!! SKIPPED {fn.logical} ({fn.binary}): {why}. Its role and grants are NOT rehearsed.")
        report.warn(f"{fn.logical} not rehearsed: {why}")

    ran: dict[str, dict] = {}
    for name in [b for b in ORDER if b in by_binary]:
        fn = by_binary[name]
        info = roles[fn.role_logical]
        report.say("")
        report.say(f"== {fn.binary} ({fn.logical}) under role {info['name']}")
        check_trust(report, fn.binary, info["trust"])
        creds = dep.assume(moto_direct, info["arn"], fn.binary)
        recorder.keys[creds["AccessKeyId"]] = fn.binary
        try:
            template_env = {k: str(v) for k, v in dep.r.value(fn.env).items()}
        except Unresolvable as e:
            report.fail(f"{fn.binary}: its environment refers to something not deployed: {e}")
            continue
        env = dict(template_env)
        env.update({"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": creds["SessionToken"], "AWS_REGION": REGION,
                    "AWS_ENDPOINT_URL": proxy_url})
        getenv_log = out / f"{fn.binary}.getenv"
        if shim:
            getenv_log.unlink(missing_ok=True)
            env.update({"LD_PRELOAD": str(shim), "ZCC_REHEARSE_GETENV_LOG": str(getenv_log)})
        report.say(f"  environment from the template: {', '.join(f'{k}={v}' for k, v in sorted(template_env.items()))}")
        extra = {}
        traffic = TRAFFIC[fn.binary]
        if traffic in ("webhook", "challenge"):
            extra["secret"] = PARAMETERS["ZoomWebhookSecretToken"]
        elif traffic == "flow":
            extra["token"] = PARAMETERS["FlowAuthToken"]
        elif traffic == "reconcile":
            # As the operator does after the deploy (docs: reconcile): the app's credentials put
            # in the secret the template created with a placeholder; here, the stand-in's app.
            arn = template_env.get("ZOOM_API_SECRET_ARN")
            if not arn:
                report.fail(f"{fn.binary}: the template sets no ZOOM_API_SECRET_ARN")
                continue
            value = subprocess.run([str(driver), "--zoom-api-credentials"], capture_output=True, text=True,
                                   check=True).stdout.strip()
            dep.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=value)
            dep.secret_values[arn] = value
        elif traffic == "stream":
            mappings = [dep.r.value(r["Properties"]) for _, r in dep.resources("AWS::Lambda::EventSourceMapping")
                        if r["Properties"].get("FunctionName") in ({"Ref": fn.logical}, {"Fn::GetAtt": [fn.logical, "Arn"]})]
            if not mappings:
                report.fail(f"{fn.binary}: no event source mapping in the template")
                continue
            poller = dep.assume(moto_direct, info["arn"], "lambda-poller")
            recorder.keys[poller["AccessKeyId"]] = f"{fn.binary} (Lambda's poller, played by the rehearsal)"
            batches, seen = poll_stream(dep, poller, template_env.get("TABLE_NAME", dep.r.ref("EventsTable")), mappings[0])
            kept = sum(len(b["Records"]) for b in batches)
            report.say(f"  the poller read {seen} stream records; the mapping's filter kept {kept} (state items)")
            if not kept:
                report.fail(f"{fn.binary}: no stream records to deliver (did the writers store nothing?)")
            extra["traffic"] = "raw"
            extra["events"] = batches
            traffic = "raw"
            dest = mappings[0].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if dest:
                # The mapping's on-failure destination: what Lambda sends, under this role, for a
                # batch it gave up on. The rehearsal plays that once.
                url = next(u for u, a in dep.queue_arns.items() if a == dest)
                dep.client("sqs", poller).send_message(QueueUrl=url, MessageBody=json.dumps(
                    {"requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": fn.logical},
                     "DDBStreamBatchInfo": {"streamArn": mappings[0]["EventSourceArn"], "batchSize": 1}}))
        served = run_function(fn, env, traffic, extra, out, driver, report, secret_texts(dep.secret_values))
        ran[fn.binary] = {"fn": fn, "info": info, "template_env": template_env, "getenv": getenv_log if shim else None,
                          "served": served}

    # ---- IAM is enforced: calls outside a role's policy are refused
    report.say("")
    report.say("== IAM is enforced: calls outside each role's policy")
    enforced = True
    def expect_denied(label: str, role_logical: str, call) -> None:
        nonlocal enforced
        creds = dep.assume(moto_direct, roles[role_logical]["arn"], "probe")
        recorder.keys[creds["AccessKeyId"]] = "probe"
        try:
            call(creds)
            report.fail(f"{label}: moto ALLOWED it")
            enforced = False
        except Exception as e:
            code_ = getattr(e, "response", {}).get("Error", {}).get("Code", e.__class__.__name__)
            # moto answers a refused JSON-protocol call in XML, which botocore reads as a bare
            # 403: the code is in the message.
            if "AccessDenied" in code_ or "AccessDenied" in str(e):
                code_ = "AccessDenied"
                report.ok(f"{label}: denied ({code_})")
            else:
                report.fail(f"{label}: failed, but not as denied ({code_})")
                enforced = False
    if "UrlValidationFunctionRole" in roles:
        expect_denied("url-validation's role writing to the table", "UrlValidationFunctionRole",
                      lambda c: dep.client("dynamodb", c).put_item(TableName=table, Item={"pk": {"S": "x"}, "sk": {"S": "y"}}))
    zoom_secret = dep.r.refs.get("ZoomWebhookSecret")
    if "NotifyFunctionRole" in roles and zoom_secret:
        expect_denied("the notifier's role reading the webhook's secret", "NotifyFunctionRole",
                      lambda c: dep.client("secretsmanager", c).get_secret_value(SecretId=zoom_secret))
    report.say("  IAM is " + ("ENFORCED" if enforced else "NOT enforced") + " in moto for these roles.")
    flow_secret = dep.r.refs.get("FlowAuthTokenSecret")
    if "ZoomWebhookFunctionRole" in roles and flow_secret:
        # What moto cannot refuse (it checks actions only), the rehearsal's own check does.
        creds = dep.assume(moto_direct, roles["ZoomWebhookFunctionRole"]["arn"], "probe")
        try:
            dep.client("secretsmanager", creds).get_secret_value(SecretId=flow_secret)
            moto_said = "moto allowed it (it checks actions only)"
        except Exception:
            moto_said = "moto denied it"
        decision, why = evaluate([(n, dep.r.value(d)) for n, d in roles["ZoomWebhookFunctionRole"]["inline"]],
                                 "secretsmanager:GetSecretValue", flow_secret)
        line = f"the webhook's role reading the Flow token's secret: {moto_said}; the template's policy: {decision} ({why})"
        if decision == "denied":
            report.ok(line + ": a call like it by a function fails the rehearsal")
        else:
            report.fail(line)

    # ---- the calls each function made, checked against the template's own statements
    report.say("")
    report.say("== calls per function, checked against the template's policies (least privilege both ways)")
    calls = list(recorder.calls)
    for c in calls:
        c.resource = resource_of(c, dep, recorder)
    calls_json: dict[str, list] = {}
    for binary, r in ran.items():
        fn, info = r["fn"], r["info"]
        policies = info["inline"]
        resolved = [(n, dep.r.value(d)) for n, d in policies]
        mine = [c for c in calls if c.who == binary or c.who.startswith(binary + " (")]
        report.say(f"-- {binary}: {len(mine)} calls")
        used: set[tuple[str, str]] = set()
        summary: dict[tuple, list[Call]] = {}
        for c in mine:
            summary.setdefault((c.who, f"{c.service}:{c.action}", c.resource), []).append(c)
        for (who, action, resource), cs in sorted(summary.items()):
            statuses = sorted({c.status for c in cs})
            denied = [c for c in cs if "AccessDenied" in c.error]
            decision, why = evaluate(resolved, action, resource)
            by = "" if who == binary else " [Lambda's poller]"
            moto_says = "denied by moto" if denied else "allowed by moto"
            line = f"{action:32} {resource}  x{len(cs)}{by}: {moto_says}; template: {decision} ({why})"
            calls_json.setdefault(binary, []).append({
                "action": action, "resource": resource, "count": len(cs), "by": "poller" if by else "code",
                "moto": "denied" if denied else "allowed", "template": decision})
            if denied or decision != "allowed":
                report.fail(f"{binary} needs {action} on {resource}, which the template does not grant "
                            f"({moto_says}; {why}): add it to {fn.logical}'s Policies")
            elif any(s >= 500 for s in statuses):
                report.fail(f"{line}; answered HTTP {statuses}")
            else:
                report.ok(line)
            used.add((action.lower(), resource))
        # Every grant was used by some call: only known when the function served its traffic.
        if not r["served"]:
            report.say(f"  note {binary} did not serve all its traffic: its unused grants are not judged")
            resolved_grants = []
        else:
            resolved_grants = resolved
        for pname, doc in resolved_grants:
            for st in statements(doc):
                if st.get("Effect") != "Allow":
                    continue
                for a in as_list(st.get("Action", [])):
                    for res in as_list(st.get("Resource", [])):
                        hit = any(glob(a, ua, True) and glob(res, ur) for ua, ur in used)
                        if hit:
                            report.ok(f"grant {a} on {res}: used")
                        elif (binary, a) in RARE_PATHS:
                            report.say(f"  note grant {a} on {res}: not reached by the rehearsal's traffic; kept: {RARE_PATHS[(binary, a)]}")
                        else:
                            report.fail(f"{binary}: the template grants {a} on {res} ({pname}), which no call used: remove it, or drive the path that needs it")
        for m in info["managed"]:
            report.say(f"  note managed policy {m.split('/')[-1]}: used by Lambda itself (log or trace delivery), not by the code; not judged")

    # ---- the environment the code reads against the one the template sets
    report.say("")
    report.say("== environment: what each function read against what the template sets")
    if not any(r["getenv"] for r in ran.values()):
        report.warn("no C compiler: the variables each function reads were not traced")
    for binary, r in ran.items():
        if not r["getenv"] or not r["getenv"].exists():
            continue
        read = set(r["getenv"].read_text().split())
        tenv = set(r["template_env"])
        read_unset = []
        for name in sorted(read):
            if (name in tenv or name in LAMBDA_PROVIDED or name in REHEARSAL_ONLY_ENV or name in ENDPOINT_OVERRIDES
                    or name.startswith("AWS_ENDPOINT_URL")):
                continue
            if name in OPTIONAL_ENV:
                report.say(f"  note {binary} reads {name}, unset by the template: fine, {OPTIONAL_ENV[name]}")
            elif name in env_names:
                report.fail(f"{binary} reads {name}, which the template never sets (add it to {r['fn'].logical}'s Environment)")
            else:
                read_unset.append(name)
        for name in sorted(tenv - read) if r["served"] else []:
            report.fail(f"the template sets {name} for {binary}, which never reads it (a misspelt or dead variable)")
        report.ok(f"{binary} read {', '.join(sorted(n for n in read & tenv))}: all set by the template"
                  + (f"; libraries read {', '.join(read_unset)} (unset, their defaults)" if read_unset else ""))

    report.say("")
    elapsed = time.time() - started
    verdict = "PASSED" if not report.failures else "FAILED"
    report.say(f"== rehearsal {verdict} in {elapsed:.0f} s: {len(ran)} functions rehearsed, "
               f"{len(report.failures)} failures, {len(report.warnings)} warnings; logs in {out}"
               + (" (removed after a pass; --out DIR keeps them)" if not report.failures and not args.out else ""))
    # The findings that name what to change in the template first.
    for f in sorted(report.failures, key=lambda f: (not re.match(r"\S+ (needs|reads) ", f), f)):
        report.say(f"   FAIL {f}")
    if args.json:
        print(json.dumps({"passed": not report.failures, "failures": report.failures, "warnings": report.warnings,
                          "functions": sorted(ran), "skipped": [f.binary for f, _ in skipped],
                          "iam_enforced": enforced, "moto_checks_resources": moto_checks["resource"],
                          "moto_ignores_conditions": moto_checks["condition"], "calls": calls_json,
                          "seconds": round(elapsed, 1)}))
    return 0 if not report.failures else 1


def self_test() -> int:
    """The rehearsal must fail, naming the action, on a template whose webhook function lacks
    dynamodb:PutItem."""
    text = (ROOT / "template.yaml").read_text()
    start = text.index("\n  ZoomWebhookFunction:\n")
    end = text.index("\n  # ----", start)
    block = text[start:end]
    cut = re.sub(r"\n\s*- dynamodb:PutItem\n", "\n", block, count=1)
    if cut == block:
        print("self-test: no dynamodb:PutItem line in ZoomWebhookFunction to remove", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="zcc-rehearse-selftest-") as tmp:
        broken = Path(tmp) / "template.yaml"
        broken.write_text(text[:start] + cut + text[end:])
        proc = subprocess.run([sys.executable, __file__, "--template", str(broken), "--no-build", "--out", tmp],
                              capture_output=True, text=True, timeout=900)
    named = re.search(r"FAIL zoom-webhook needs dynamodb:PutItem on arn:aws:dynamodb:\S+:table/\S+", proc.stdout)
    if proc.returncode != 0 and named:
        print("self-test: passed: without dynamodb:PutItem the rehearsal fails (exit "
              f"{proc.returncode}) and names it:\n  {named.group(0).rstrip(',')}")
        return 0
    print(f"self-test: FAILED: exit {proc.returncode}, the action named: {bool(named)}\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return 1


if __name__ == "__main__":
    if "--self-test" in sys.argv[1:]:
        try:
            if "--no-build" not in sys.argv[1:]:
                build(sorted(TRAFFIC), Report())
        except RehearsalError as e:
            print(f"rehearse: {e}", file=sys.stderr)
            sys.exit(2)
        sys.exit(self_test())
    try:
        sys.exit(main(sys.argv[1:]))
    except RehearsalError as e:
        print(f"rehearse: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        # Not a finding about the template: the rehearsal itself broke (exit 2, not 1).
        import traceback
        traceback.print_exc()
        print("rehearse: the rehearsal could not run (above); the template was not judged", file=sys.stderr)
        sys.exit(2)
