#!/usr/bin/env python3
"""Runs linode_api4, the Linode Python SDK, against a profiled server.

Not a test of the suite: PyPI is out of reach of this project's CI, so
face/linode/python_test.go and face/auth/loginclient_test.go replay the
requests this script makes. Run it by hand to check a new SDK release
(docs/real-clients.md):

    pip install linode_api4
    PROFILED_URL=http://127.0.0.1:8080 PROFILED_TOKEN=$TOKEN \
        python3 tools/realclients/linode_api4_check.py

With PROFILED_USERNAME and PROFILED_PASSWORD (a user who signs in with a
password and without two-factor authentication), it also runs the SDK's
OAuth helper, LinodeLoginClient, through the sign-in and consent pages.
It exits 1 if any step fails. It leaves nothing behind that it made, but
the answers to three security questions when the user had none (turning
two-factor authentication on needs them).
"""

import base64
import datetime
import hashlib
import hmac
import os
import re
import struct
import sys
import time
from urllib.parse import parse_qs, urlparse

import requests
from linode_api4 import LinodeClient, LinodeLoginClient, OAuthScopes
from linode_api4.objects import OAuthClient, PersonalAccessToken, SSHKey, User

URL = os.environ.get("PROFILED_URL", "http://127.0.0.1:8080").rstrip("/")
client = LinodeClient(os.environ["PROFILED_TOKEN"], base_url=URL + "/v4")
failures = []


def step(name, fn):
    try:
        print("ok  ", name, "->", repr(fn())[:160])
    except Exception as e:  # every failure is reported, and the run goes on
        failures.append(name)
        print("FAIL", name, "->", type(e).__name__, str(e)[:400])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjUxRqyN1eQ3XRXGcTrjqb1mzV5DvWDpwGBkp1Tj8ni check@linode-api4"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
profile = client.profile()
old_timezone = profile.timezone


def profile_save():
    profile.timezone = "America/New_York"
    check(profile.save(), "save")
    profile.invalidate()
    check(profile.timezone == "America/New_York", "timezone not saved")
    profile.timezone = old_timezone
    return profile.save()


step("profile", lambda: (profile.username, profile.email, profile.uid))
step("profile save", profile_save)
step("grants of an unrestricted user (204)", lambda: check(profile.grants is None, "grants") or "none")


def ssh_keys():
    k = client.profile.ssh_key_upload(KEY, "check-key")
    try:
        check([x.label for x in client.profile.ssh_keys(SSHKey.label == "check-key")] == ["check-key"], "filter")
        k.label = "check-key-2"
        k.save()
        check(client.load(SSHKey, k.id).label == "check-key-2", "rename")
    finally:
        k.delete()
    return k.id


def tokens():
    expiry = datetime.datetime.now() + datetime.timedelta(days=2)  # naive, as the SDK formats it
    t = client.profile.token_create(label="check-token", expiry=expiry, scopes="linodes:read_only account:read_write")
    try:
        check(len(t.token) == 64, "token")
        check([x.label for x in client.profile.tokens(PersonalAccessToken.label == "check-token")] == ["check-token"], "filter")
        t.label = "check-token-2"
        t.save()
        check(client.load(PersonalAccessToken, t.id).label == "check-token-2", "rename")
        return t.scopes
    finally:
        t.delete()


def tfa():
    secret = profile.enable_tfa()
    profile.confirm_tfa(totp(secret))
    return profile.disable_tfa()


step("ssh keys", ssh_keys)
step("tokens", tokens)
step("apps, devices", lambda: (len(client.profile.apps()), len(client.profile.trusted_devices())))
step("preferences", lambda: client.profile.user_preferences_update(**client.profile.user_preferences().dict).dict)
def answer_questions():
    questions = client.profile.security_questions().security_questions
    if any(q.response for q in questions):
        return "answered before"
    return len(client.profile.security_questions_answer(
        [{"question_id": q.id, "response": "check answer %d" % q.id} for q in questions[:3]]).security_questions)


step("security questions (answers three if none is answered)", answer_questions)
step("two-factor authentication", tfa)


def users():
    u = client.account.user_create("check-user@example.com", "check-user", restricted=True)
    try:
        g = u.grants
        g.global_grants.add_linodes = True
        g.global_grants.account_access = "read_only"
        g.save()
        u.invalidate()
        check(u.grants.global_grants.add_linodes and u.grants.global_grants.account_access == "read_only", "grants")
        check([x.username for x in client.account.users(User.username == "check-user")] == ["check-user"], "filter")
    finally:
        u.delete()
    return u.username


def oauth_clients():
    oc = client.account.oauth_client_create("check-app", "https://check.example/cb")
    try:
        oc.label = "check-app-2"
        oc.save()
        check(client.load(OAuthClient, oc.id).label == "check-app-2", "rename")
        old = oc.secret
        check(oc.reset_secret() != old, "reset_secret")  # posts to .../reset_secret
        check(oc.set_thumbnail(PNG), "set_thumbnail")  # Authorization: token ..., at //account/...
        check(oc.thumbnail() == PNG, "thumbnail")
    finally:
        oc.delete()
    return oc.id


step("account users and grants", users)
step("account logins", lambda: len(client.account.logins()))
step("oauth clients", oauth_clients)
step("account and settings", lambda: (client.account().email, client.account.settings().network_helper))


def login_client(username, password):
    oc = client.account.oauth_client_create("check-login", "https://check.example/oauth-redirect")
    try:
        lc = LinodeLoginClient(oc.id, oc.secret, base_url=URL)
        url = lc.generate_login_url(scopes=[OAuthScopes.Linodes.all, OAuthScopes.Account.read_only])
        browser = requests.Session()
        page = browser.get(URL + "/auth/signin").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = browser.post(URL + "/auth/signin", allow_redirects=False,
                         data={"csrf_token": csrf, "username": username, "password": password})
        check(r.status_code == 303, "sign-in: %d" % r.status_code)
        page = browser.get(url).text
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
        for key, value in re.findall(r'(?s)<select id="scope_([^"]+)" name="[^"]+">.*?<option value="([a-z_]+)" selected>', page):
            form["scope_" + key] = value
        form["decision"] = "approve"
        r = browser.post(URL + "/oauth/authorize", data=form, allow_redirects=False)
        code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
        token, scopes, _, refresh = lc.finish_oauth(code)
        check(sorted(map(repr, scopes)) == ["account:read_only", "linodes:read_write"], "scopes %r" % scopes)
        check(LinodeClient(token, base_url=URL + "/v4").profile().username == username, "profile")
        token, _, _, _ = lc.refresh_oauth_token(refresh)
        lc.expire_token(token)
        try:
            LinodeClient(token, base_url=URL + "/v4").profile()
            raise AssertionError("an expired token still works")
        except requests.HTTPError:
            pass
        except Exception as e:
            check("401" in str(e), "after expire_token: %s" % e)
    finally:
        oc.delete()
    return repr(scopes)


if os.environ.get("PROFILED_USERNAME"):
    step("LinodeLoginClient", lambda: login_client(os.environ["PROFILED_USERNAME"], os.environ["PROFILED_PASSWORD"]))

print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
