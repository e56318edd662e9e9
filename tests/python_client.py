"""Drives a running generated service through a client that
openapi-python-client generates from the service's openapi.json.

    python3 tests/python_client.py OPENAPI_JSON FIXTURES_JSON BASE_URL DATABASE

The document must pass openapi-spec-validator. Every operation of the
document but `GET /metrics` (a text format the
client generator does not read) must come out of the generator as a module
with `sync_detailed`, and every one is called at least once, through the
generated models: for each resource in `tests/fixtures.json` (parents
first) create (directly and under each parent), get, every list, replace
and update, then delete in reverse order; for a spec with `auth`, register,
login, refresh, me and logout, the account promoted to the admin role
(with psql on DATABASE) so that every access rule admits it.
Each response must have the documented status and parse into the
documented model. Exits non-zero with a message on the first failure.
"""

import importlib
import inspect
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "scaffold_client"
SKIPPED = {("get", "/metrics")}
METHODS = {"get", "post", "put", "patch", "delete"}


def fail(message):
    sys.exit(f"python client: {message}")


def snake(name):
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


class Driver:
    def __init__(self, document, fixtures, base_url, database):
        self.document = document
        self.auth = fixtures.get("auth")
        self.fixtures = fixtures["resources"]
        self.base_url = base_url
        self.database = database
        self.ops = {}  # operationId -> module
        self.called = set()
        self.client = None

    def generate(self, openapi_path, out_dir):
        target = Path(out_dir) / PACKAGE
        run = subprocess.run(
            ["openapi-python-client", "generate", "--path", openapi_path,
             "--output-path", str(target), "--meta", "none"],
            capture_output=True, text=True,
        )
        if run.returncode != 0:
            fail(f"openapi-python-client failed:\n{run.stdout}\n{run.stderr}")
        sys.path.insert(0, out_dir)
        for path, methods in self.document["paths"].items():
            for method, op in methods.items():
                if method not in METHODS or (method, path) in SKIPPED:
                    continue
                op_id = op["operationId"]
                module = f"{PACKAGE}.api.{snake(op['tags'][0])}.{snake(op_id)}"
                try:
                    self.ops[op_id] = importlib.import_module(module)
                except ImportError as err:
                    fail(f"{method.upper()} {path} ({op_id}) was not generated: {err}\n{run.stdout}")
                if not hasattr(self.ops[op_id], "sync_detailed"):
                    fail(f"{module} has no sync_detailed")
        self.client = importlib.import_module(f"{PACKAGE}.client").Client(base_url=self.base_url)

    def has(self, op_id):
        return op_id in self.ops

    def call(self, op_id, expected, body=None, **params):
        """Calls an operation through its generated module; the body, a
        dict, goes through the operation's own body model."""
        module = self.ops[op_id]
        signature = inspect.signature(module.sync_detailed)
        if body is not None:
            model = signature.parameters["body"].annotation
            params["body"] = model.from_dict(body)
        response = module.sync_detailed(client=self.client, **params)
        self.called.add(op_id)
        status = int(response.status_code)
        if status != expected:
            fail(f"{op_id}({params}) answered {status}, not {expected}: {response.content[:500]!r}")
        if 200 <= status < 300 and status != 204 and response.content:
            content_type = response.headers.get("content-type", "")
            if "json" in content_type and response.parsed is None:
                fail(f"{op_id}: the client did not parse its {status} response")
            if type(response.parsed).__name__ == "Problem":
                fail(f"{op_id}: a {status} parsed as a Problem")
        return response.parsed

    def authenticate(self, auth, credentials):
        """Registers and logs in an account of a spec with auth, promoted to
        the admin role so that every access rule admits it, then refreshes
        its tokens; the client sends the refreshed access token from then on."""
        body = self.body_for(credentials, 0)
        body["password"] = "correct horse battery staple"
        self.call("register", 201, body=body)
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", self.database,
             "-v", "ON_ERROR_STOP=1", "-qc",
             f"UPDATE {credentials['table']} SET role = '{auth['admin_role']}'"],
            check=True,
        )
        login = {auth["login"]: body[auth["login"]], "password": body["password"]}
        tokens = self.call("login", 200, body=login).to_dict()
        refreshed = self.call("refresh", 200, body={"refresh_token": tokens["refresh_token"]}).to_dict()
        authenticated = importlib.import_module(f"{PACKAGE}.client").AuthenticatedClient
        self.client = authenticated(base_url=self.base_url, token=refreshed["access_token"])
        return self.call("me", 200).to_dict()["id"]

    def body_for(self, resource, n, parents=None, skip=None):
        body = {}
        for f in resource["fields"]:
            if f.get("writers") is not None:
                continue
            if f["parent"] is not None:
                if f["name"] != skip:
                    body[f["name"]] = (parents or {})[f["parent"]]
                continue
            samples = f["samples"]
            body[f["name"]] = samples[n % len(samples)]
        return body

    def check_echo(self, op_id, sent, row):
        """The row echoes every field sent, compared after both went through
        the row's model (`...Z` and `...+00:00` are one instant)."""
        got = row.to_dict()
        sent = type(row).from_dict({**got, **sent}).to_dict()
        for key, value in sent.items():
            if got.get(key) != value:
                fail(f"{op_id}: `{key}` came back as {got.get(key)!r}, not {value!r}")

    def exercise(self):
        credentials = None
        ids = {}
        if self.auth is not None:
            credentials = next(r for r in self.fixtures if r["name"] == self.auth["credentials"])
            ids[credentials["name"]] = self.authenticate(self.auth, credentials)
        created = []
        for r in self.fixtures:
            name = r["name"]
            direct = [op for op in r["operations"]["create"] if "_for_" not in op]
            if r is credentials:
                row_id = ids[name]
            else:
                body = self.body_for(r, 0, ids)
                row = self.call(direct[0], 201, body=body)
                self.check_echo(direct[0], body, row)
                row_id = row.to_dict()["id"]
                ids[name] = row_id
                created.append((name, row_id))
                # The same resource under each parent, the parent's id from the path.
                for parent in r["parents"]:
                    op = f"create_{name}_for_{parent['resource']}"
                    if not self.has(op):
                        continue
                    nested = self.body_for(r, 1, ids, skip=parent["column"])
                    nested_row = self.call(op, 201, body=nested, **{parent["column"]: ids[parent["resource"]]})
                    created.append((name, nested_row.to_dict()["id"]))
            key = f"{name}_id"
            got = self.call(f"get_{name}", 200, **{key: row_id})
            if got.to_dict()["id"] != row_id:
                fail(f"get_{name} returned {got.to_dict()['id']!r}, not {row_id!r}")
            for op in r["operations"]["list"]:
                parent = next((p for p in r["parents"] if op.endswith(f"_of_{p['resource']}")), None)
                params = {parent["column"]: ids[parent["resource"]]} if parent else {}
                page = self.call(op, 200, **params).to_dict()
                if row_id not in [item["id"] for item in page["items"]]:
                    fail(f"{op}: {row_id!r} is not on the first page")
            # The account keeps the values it registered with (its login
            # among them); any other row takes the third sample.
            replaced = self.body_for(r, 0 if r is credentials else 2, ids)
            if self.has(f"replace_{name}"):
                self.check_echo(f"replace_{name}", replaced, self.call(f"replace_{name}", 200, body=replaced, **{key: row_id}))
            # A field no other row holds the fourth sample of, unique or not.
            writable = [f for f in r["fields"] if f["parent"] is None and f.get("writers") is None]
            field = next((f for f in writable if not f.get("unique")), writable[0] if writable else None)
            if field is not None:
                patch = {field["name"]: field["samples"][3 % len(field["samples"])]}
                self.check_echo(f"update_{name}", patch, self.call(f"update_{name}", 200, body=patch, **{key: row_id}))
        for op in ("health", "livez", "readyz", "openapi", "docs"):
            if self.has(op):
                self.call(op, 200)
        for name, row_id in reversed(created):
            self.call(f"delete_{name}", 204, **{f"{name}_id": row_id})
            self.call(f"get_{name}", 404, **{f"{name}_id": row_id})
        if credentials is not None:
            self.call("logout", 204)
            self.call("me", 401)
            name = credentials["name"]
            # Signed out, the account is deleted by an administrator's token
            # only; here it stays, and the driver's coverage counts the
            # operation through a 401.
            self.call(f"delete_{name}", 401, **{f"{name}_id": ids[name]})
        missing = sorted(set(self.ops) - self.called)
        if missing:
            fail(f"operations never called: {missing}")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    openapi_path, fixtures_path, base_url, database = sys.argv[1:]
    with open(openapi_path) as f:
        document = json.load(f)
    with open(fixtures_path) as f:
        fixtures = json.load(f)
    # The document itself first: a client generator reads what the
    # specification allows, and openapi-spec-validator holds it to that.
    try:
        from openapi_spec_validator import validate
    except ImportError:
        fail("needs openapi-spec-validator (python3 -m pip install openapi-spec-validator==0.9.0)")
    try:
        validate(document)
    except Exception as err:  # the validator's own error types vary by version
        fail(f"openapi-spec-validator refuses {openapi_path}: {err}")
    driver = Driver(document, fixtures, base_url, database)
    with tempfile.TemporaryDirectory() as out_dir:
        driver.generate(openapi_path, out_dir)
        driver.exercise()
    print(f"python client: {len(driver.called)} operations called, every one as documented")


if __name__ == "__main__":
    main()
