"""FINBOURNE's official Python SDK (finbourne-identity-sdk), unchanged,
against the identity emulator: the whole user lifecycle through its UsersApi.

Run by `cargo xtask compat` (xtask/src/compat.rs), once per way of
authenticating. The SDK is configured the way its own documentation says,
through its default configuration loaders (environment variables, then a
secrets.json in the working directory, then FBN_ACCESS_TOKEN_FILE), and
`SyncApiClientFactory`:

- FBN_IDENTITY_URL: the emulator's base URL (http://127.0.0.1:<port>/identity)
- either FBN_ACCESS_TOKEN (a personal access token), or FBN_TOKEN_URL,
  FBN_USERNAME, FBN_PASSWORD, FBN_CLIENT_ID, FBN_CLIENT_SECRET (the SDK's
  OAuth2 password grant, with its refresh handling).

The script's own settings (not the SDK's):

- COMPAT_EMULATOR_ROOT: the emulator's root URL, for its test hooks
  (`/_emulator/...`), called with urllib and no token.
- COMPAT_PASS: a short name of the pass, used in logins so that passes
  against one emulator do not collide.

It prints one line per step ("ok   <step>: <what was checked>") and stops at
the first failure with "FAIL <step>: <why>" and exit code 1.
"""

import json
import logging
import os
import sys
import traceback
import urllib.request
from datetime import datetime, timedelta, timezone
from importlib.metadata import version

import finbourne_identity as fi
from finbourne_identity import (
    ApiException,
    CreateUserRequest,
    LusidProblemDetails,
    RoleId,
    SyncApiClientFactory,
    UpdateUserRequest,
    UpdateUserSchemaRequest,
    UserSchemaProperty,
    UsersApi,
)

MISSING_ID = "compat-no-such-user"


class StepFailed(Exception):
    """An answer that is not what the service's contract says."""


def check(condition, message):
    if not condition:
        raise StepFailed(message)


class Hooks:
    """The emulator's test hooks (not part of the service's API)."""

    def __init__(self, root):
        self.root = root.rstrip("/")

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.root + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return json.loads(raw) if raw else None

    def set_status(self, user_id, status):
        self._call("PUT", f"/_emulator/users/{user_id}/status", {"status": status})

    def requests(self):
        return self._call("GET", "/_emulator/requests")

    def clear_requests(self):
        self._call("DELETE", "/_emulator/requests")


class Lifecycle:
    """The steps, in order; each returns a short description of what it checked."""

    def __init__(self, users, hooks, pass_name, password_grant):
        self.users = users
        self.hooks = hooks
        self.pass_name = pass_name
        self.password_grant = password_grant
        self.login = f"compat.{pass_name}@example.com"
        self.service_login = f"compat-{pass_name}-runner@example.com"
        self.user_id = None
        self.service_id = None

    # -- helpers -----------------------------------------------------------

    def status_of(self, user_id):
        return self.users.get_user(user_id).status

    def expect_status(self, user_id, expected):
        status = self.status_of(user_id)
        check(status == expected, f"status is {status!r}, expected {expected!r}")

    def expect_api_error(self, call, status, code):
        """Calls `call`, which must raise the SDK's ApiException with this
        status and a problem-details body (parsed by the SDK's own model)
        with this code."""
        try:
            call()
        except ApiException as error:
            check(
                error.status == status,
                f"ApiException status {error.status}, expected {status}; body {error.body!r}",
            )
            try:
                problem = LusidProblemDetails.from_json(error.body)
            except Exception as parse_error:  # the SDK's model rejected the body
                raise StepFailed(
                    f"the SDK's LusidProblemDetails cannot parse the error body "
                    f"{error.body!r}: {parse_error}"
                ) from parse_error
            check(problem.code == code, f"problem code {problem.code}, expected {code}")
            check(
                problem.status in (None, status),
                f"problem status {problem.status}, expected {status}",
            )
            request_id = (error.headers or {}).get("lusid-meta-requestId")
            check(request_id, "no lusid-meta-requestId header on the error answer")
            return problem
        raise StepFailed(f"no ApiException: expected HTTP {status}, code {code}")

    def access_token(self):
        """The SDK's RefreshingToken (password grant pass only)."""
        return self.users.api_client.configuration.access_token

    # -- steps ---------------------------------------------------------------

    def update_user_schema(self):
        answer = self.users.update_user_schema(
            UpdateUserSchemaRequest(
                alternative_user_ids=[
                    UserSchemaProperty(name="employeeId", description="HR system number")
                ]
            )
        )
        check(answer is not None, "no typed result (was the answer a 200?)")
        names = [p.name for p in answer.alternative_user_ids or []]
        check(names == ["employeeId"], f"schema properties {names}")
        return "schema has employeeId"

    def get_user_schema(self):
        answer = self.users.get_user_schema()
        props = {p.name: p.description for p in answer.alternative_user_ids or []}
        check(props == {"employeeId": "HR system number"}, f"schema properties {props}")
        return "employeeId read back"

    def create_user(self):
        user = self.users.create_user(
            CreateUserRequest(
                first_name="Ada",
                last_name="Lovelace",
                email_address=self.login,
                login=self.login,
                type="Personal",
                alternative_user_ids={"employeeId": f"E-{self.pass_name}"},
                roles=[RoleId(scope="default", code="reader")],
            ),
            wait_for_reindex=True,
        )
        check(user is not None, "no typed result (was the answer a 200?)")
        check(bool(user.id), "empty id")
        check(user.login == self.login, f"login {user.login!r}")
        check(user.email_address == self.login, f"emailAddress {user.email_address!r}")
        check(user.type == "Personal", f"type {user.type!r}")
        check(user.status == "PROVISIONED", f"status {user.status!r}")
        check(user.external is False, f"external {user.external!r}")
        check(user.created is not None, "no created timestamp")
        check(
            user.alternative_user_ids == {"employeeId": f"E-{self.pass_name}"},
            f"alternativeUserIds {user.alternative_user_ids}",
        )
        self.user_id = user.id
        return f"id {user.id}, PROVISIONED"

    def create_duplicate_user(self):
        request = CreateUserRequest(
            first_name="Ada",
            last_name="Again",
            email_address=self.login.upper(),
            login=self.login.upper(),
            type="Personal",
        )
        self.expect_api_error(lambda: self.users.create_user(request), 400, 658)
        return "same login in another case: 400, code 658"

    def get_user_with_roles(self):
        user = self.users.get_user(self.user_id, include_roles=True)
        check(user.id == self.user_id, f"id {user.id!r}")
        roles = user.roles or []
        check(len(roles) == 1, f"roles {roles}")
        role = roles[0]
        check(
            (role.role_id.scope, role.role_id.code) == ("default", "reader"),
            f"roleId {role.role_id}",
        )
        check(bool(role.id) and bool(role.source) and bool(role.name), f"role {role}")
        plain = self.users.get_user(self.user_id)
        check(plain.login == self.login, f"login {plain.login!r}")
        return f"role {role.name} ({role.source})"

    def get_user_from_login(self):
        user = self.users.get_user_from_login(self.login)
        check(user.id == self.user_id, f"id {user.id!r}, expected {self.user_id!r}")
        return "login with '@' found the user"

    def list_users(self):
        listed = self.users.list_users()
        check(isinstance(listed, list), f"not a list: {type(listed)}")
        ids = [u.id for u in listed]
        check(self.user_id in ids, f"{self.user_id} not in {ids}")
        deactivated = self.users.list_users(include_deactivated=True)
        check(
            self.user_id in [u.id for u in deactivated],
            "user missing with include_deactivated=True",
        )
        return f"{len(listed)} users, {len(deactivated)} with deactivated"

    def find_users_by_id(self):
        answer = self.users.find_users_by_id([self.user_id, MISSING_ID])
        values = answer.values or {}
        failed = answer.failed or {}
        check(self.user_id in values, f"values {list(values)}")
        summary = values[self.user_id]
        check(summary.login == self.login, f"login {summary.login!r}")
        check(summary.email == self.login, f"email {summary.email!r}")
        check(MISSING_ID in failed, f"failed {list(failed)}")
        check(MISSING_ID not in values, "missing id among values")
        return f"1 found, 1 failed ({failed[MISSING_ID].type or failed[MISSING_ID].detail})"

    def update_user(self):
        user = self.users.update_user(
            self.user_id,
            UpdateUserRequest(
                first_name="Augusta Ada",
                last_name="King",
                email_address=self.login,
                login=self.login,
                alternative_user_ids={"employeeId": f"E-{self.pass_name}-2"},
            ),
        )
        check(user is not None, "no typed result (was the answer a 200?)")
        check(user.first_name == "Augusta Ada", f"firstName {user.first_name!r}")
        check(user.last_name == "King", f"lastName {user.last_name!r}")
        again = self.users.get_user(self.user_id)
        check(again.last_name == "King", f"read back lastName {again.last_name!r}")
        check(
            again.alternative_user_ids == {"employeeId": f"E-{self.pass_name}-2"},
            f"read back alternativeUserIds {again.alternative_user_ids}",
        )
        return "names and alternativeUserIds replaced"

    def send_activation_email(self):
        answer = self.users.send_activation_email(self.user_id)
        check(answer is None, f"void operation answered {answer!r}")
        self.expect_status(self.user_id, "PROVISIONED")
        return "204, still PROVISIONED"

    def expire_password(self):
        self.hooks.set_status(self.user_id, "ACTIVE")
        temporary = self.users.expire_password(self.user_id)
        check(temporary is not None, "no typed result (was the answer a 200?)")
        check(
            isinstance(temporary.password, str) and len(temporary.password) >= 8,
            "temporary password missing or shorter than 8 characters",
        )
        self.expect_status(self.user_id, "PASSWORD_EXPIRED")
        return f"temporary password of {len(temporary.password)} characters, PASSWORD_EXPIRED"

    def reset_password(self):
        self.users.reset_password(self.user_id)
        self.expect_status(self.user_id, "RECOVERY")
        return "RECOVERY"

    def reset_factors(self):
        self.users.reset_factors(self.user_id)
        self.expect_status(self.user_id, "RECOVERY")
        return "status unchanged"

    def unlock_user(self):
        self.hooks.set_status(self.user_id, "LOCKED_OUT")
        self.users.unlock_user(self.user_id)
        self.expect_status(self.user_id, "ACTIVE")
        return "LOCKED_OUT -> ACTIVE"

    def unlock_user_not_locked(self):
        self.expect_api_error(lambda: self.users.unlock_user(self.user_id), 400, 706)
        return "ACTIVE user: 400, code 706"

    def unsuspend_user(self):
        self.hooks.set_status(self.user_id, "SUSPENDED")
        self.users.unsuspend_user(self.user_id)
        self.expect_status(self.user_id, "ACTIVE")
        return "SUSPENDED -> ACTIVE"

    def list_runnable_users(self):
        service = self.users.create_user(
            CreateUserRequest(
                first_name="Batch",
                last_name="Runner",
                email_address=f"ops.{self.pass_name}@example.com",
                second_email_address=f"ops2.{self.pass_name}@example.com",
                login=self.service_login,
                type="Service",
            )
        )
        check(service.type == "Service", f"type {service.type!r}")
        self.service_id = service.id
        runnable = self.users.list_runnable_users()
        check(isinstance(runnable, list), f"not a list: {type(runnable)}")
        ids = [u.id for u in runnable]
        check(self.service_id in ids, f"service user {self.service_id} not in {ids}")
        check(self.user_id not in ids, "a Personal user is listed as runnable")
        return f"{len(runnable)} runnable, the new Service user among them"

    def get_missing_user(self):
        problem = self.expect_api_error(lambda: self.users.get_user(MISSING_ID), 404, 657)
        return f"ApiException 404, code 657 ({problem.name})"

    def delete_user(self):
        self.users.delete_user(self.user_id)
        self.expect_status(self.user_id, "DEPROVISIONED")
        active_ids = [u.id for u in self.users.list_users()]
        check(self.user_id not in active_ids, "deleted user still in ListUsers")
        all_ids = [u.id for u in self.users.list_users(include_deactivated=True)]
        check(self.user_id in all_ids, "deleted user missing with include_deactivated=True")
        return "DEPROVISIONED, listed only with include_deactivated"

    def delete_user_with_purge(self):
        self.users.delete_user(self.user_id, purge=True)
        self.users.delete_user(self.service_id, purge=True)
        self.expect_api_error(lambda: self.users.get_user(self.user_id), 404, 657)
        all_ids = [u.id for u in self.users.list_users(include_deactivated=True)]
        check(self.user_id not in all_ids, "purged user still listed")
        check(self.service_id not in all_ids, "purged service user still listed")
        return "gone: GetUser answers 404"

    def token_refresh(self):
        """The SDK's refresh_token grant: its token is made to look expired,
        so the next call renews it (HTTP Basic client authentication)."""
        token = self.access_token()
        before = token.token_data["access_token"]
        check(before is not None, "the SDK holds no access token after the password grant")
        mark = len(self.hooks.requests())
        token.token_data["expires"] = datetime.now(timezone.utc) - timedelta(seconds=1)
        self.users.list_users()
        after = token.token_data["access_token"]
        check(after != before, "the access token was not renewed")
        calls = [r for r in self.hooks.requests()[mark:] if r.get("operation") == "Token"]
        check(len(calls) == 1, f"{len(calls)} token calls, expected 1: {calls}")
        check(calls[0]["status"] == 200, f"refresh answered {calls[0]['status']}")
        check(
            calls[0]["headers"].get("authorization", "").startswith("Basic"),
            "the refresh was not sent with HTTP Basic client authentication",
        )
        return "refresh_token grant answered 200, new access token used"

    def token_refresh_fallback(self):
        """A rejected refresh token (400 invalid_grant, 'refresh token is
        invalid or expired') makes the SDK fall back to the password grant."""
        token = self.access_token()
        mark = len(self.hooks.requests())
        token.token_data["refresh_token"] = "compat-revoked-refresh-token"
        token.token_data["expires"] = datetime.now(timezone.utc) - timedelta(seconds=1)
        try:
            self.users.list_users()
        except ValueError as error:  # what the SDK raises for a token error it does not handle
            raise StepFailed(f"the SDK did not fall back to the password grant: {error}") from error
        statuses = [
            r["status"] for r in self.hooks.requests()[mark:] if r.get("operation") == "Token"
        ]
        check(statuses == [400, 200], f"token calls answered {statuses}, expected [400, 200]")
        check(
            token.token_data["refresh_token"] != "compat-revoked-refresh-token",
            "no new refresh token after the fallback",
        )
        return "400 invalid_grant, then the password grant answered 200"

    def wire_headers(self):
        """What the SDK put on the wire in this pass, as the emulator logged it
        (the log was cleared when the pass started)."""
        log = self.hooks.requests()
        logged = [r for r in log if r.get("operation") not in (None, "Token")]
        check(logged, "the emulator logged no API request")
        token_calls = [r for r in log if r.get("operation") == "Token"]
        if self.password_grant:
            check(token_calls, "no call of the token endpoint")
            first = token_calls[0]
            check(first["status"] == 200, f"the password grant answered {first['status']}")
            check(
                "authorization" not in first["headers"],
                "the password grant carried an Authorization header",
            )
            check(
                first["headers"].get("content-type") == "application/x-www-form-urlencoded",
                f"token request Content-Type {first['headers'].get('content-type')!r}",
            )
        else:
            check(not token_calls, f"{len(token_calls)} token calls with a personal access token")
        sdk_version = version("finbourne-identity-sdk")
        for request in logged:
            headers = request["headers"]
            where = f"{request['method']} {request['path']}"
            check(
                headers.get("x-lusid-sdk-language") == "Python",
                f"{where}: X-LUSID-SDK-Language {headers.get('x-lusid-sdk-language')!r}",
            )
            check(
                headers.get("x-lusid-sdk-version") == sdk_version,
                f"{where}: X-LUSID-SDK-Version {headers.get('x-lusid-sdk-version')!r}",
            )
            check(request["status"] is not None, f"{where}: no answer logged")
        return (
            f"{len(logged)} API requests with the SDK's X-LUSID-SDK-* headers, "
            f"{len(token_calls)} token calls"
        )

    def steps(self):
        steps = [
            self.update_user_schema,
            self.get_user_schema,
            self.create_user,
            self.create_duplicate_user,
            self.get_user_with_roles,
            self.get_user_from_login,
            self.list_users,
            self.find_users_by_id,
            self.update_user,
            self.send_activation_email,
            self.expire_password,
            self.reset_password,
            self.reset_factors,
            self.unlock_user,
            self.unlock_user_not_locked,
            self.unsuspend_user,
            self.list_runnable_users,
            self.get_missing_user,
            self.delete_user,
            self.delete_user_with_purge,
        ]
        if self.password_grant:
            steps += [self.token_refresh, self.token_refresh_fallback]
        return steps + [self.wire_headers]


def last_request(hooks):
    """The last request the emulator logged, to name what failed."""
    try:
        log = hooks.requests()
    except Exception as error:  # the emulator may be what broke
        return f"the emulator's request log is unreadable: {error}"
    if not log:
        return "the emulator logged no request"
    last = log[-1]
    query = f"?{last['query']}" if last.get("query") else ""
    return (
        f"last request logged: {last['method']} {last['path']}{query} "
        f"({last.get('operation')}) -> {last.get('status')}"
    )


def main():
    # The default loaders look for an optional secrets.json in the working
    # directory and log a warning when there is none; this script is
    # configured by the environment alone.
    logging.getLogger("finbourne_identity.extensions.configuration_loaders").setLevel(
        logging.ERROR
    )
    pass_name = os.environ["COMPAT_PASS"]
    hooks = Hooks(os.environ["COMPAT_EMULATOR_ROOT"])
    password_grant = "FBN_ACCESS_TOKEN" not in os.environ
    print(
        f"[{pass_name}] finbourne-identity-sdk {version('finbourne-identity-sdk')} "
        f"({fi.__name__}), {'password grant' if password_grant else 'personal access token'}",
        flush=True,
    )
    hooks.clear_requests()
    with SyncApiClientFactory() as factory:
        users = factory.build(UsersApi)
        lifecycle = Lifecycle(users, hooks, pass_name, password_grant)
        for step in lifecycle.steps():
            name = step.__name__
            try:
                detail = step()
            except StepFailed as error:
                print(f"FAIL [{pass_name}] {name}: {error}", flush=True)
                return 1
            except ApiException as error:
                print(
                    f"FAIL [{pass_name}] {name}: the SDK raised ApiException "
                    f"status {error.status} {error.reason}; headers {dict(error.headers or {})}; "
                    f"body {error.body!r}; {last_request(hooks)}",
                    flush=True,
                )
                return 1
            except Exception:  # the SDK or the script failed: show where
                print(
                    f"FAIL [{pass_name}] {name}: unexpected exception; {last_request(hooks)}",
                    flush=True,
                )
                traceback.print_exc(file=sys.stdout)
                return 1
            print(f"ok   [{pass_name}] {name}: {detail}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
