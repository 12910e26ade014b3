"""Python consumer test of the wsgate binding (built by jsii-pacmak from this repository).

bin/chat.py builds the example chat through the binding; its template must equal the TypeScript
example's (bin/chat.ts), asset hashes included, because both read the same handler bundles.
Run by test/python/run.sh, which builds the venv and installs the wheel.
"""
import filecmp
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
STACK = "WsgateChat"


def _env(outdir):
    env = dict(os.environ)
    env["CDK_OUTDIR"] = str(outdir)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    return env


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory):
    """Synthesizes the chat app twice: bin/chat.py through the binding, bin/chat.ts with ts-node."""
    py_out = tmp_path_factory.mktemp("python-cdk-out")
    ts_out = tmp_path_factory.mktemp("typescript-cdk-out")
    py = subprocess.run([sys.executable, str(REPO / "bin" / "chat.py")], cwd=REPO, env=_env(py_out),
                        capture_output=True, text=True)
    assert py.returncode == 0, py.stderr[-4000:]
    ts = subprocess.run(["node", "-r", "ts-node/register/transpile-only", "bin/chat.ts"], cwd=REPO,
                        env={**_env(ts_out), "TS_NODE_PREFER_TS_EXTS": "true"},
                        capture_output=True, text=True)
    assert ts.returncode == 0, ts.stderr[-4000:]
    return py_out, ts_out


def _template(outdir):
    return json.loads((outdir / f"{STACK}.template.json").read_text())


def _lambda_code_keys(template):
    return sorted(
        r["Properties"]["Code"]["S3Key"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    )


def test_python_chat_template_equals_the_typescript_example(assemblies):
    # GIVEN the chat app synthesized from Python (bin/chat.py) and from TypeScript (bin/chat.ts)
    py_out, ts_out = assemblies
    # WHEN both templates are read
    py_template, ts_template = _template(py_out), _template(ts_out)
    # THEN they are equal, resource for resource, outputs and asset hashes included
    assert sorted(py_template["Resources"]) == sorted(ts_template["Resources"])
    assert py_template == ts_template
    # AND the seven bundled handlers are there, each with its own content-hashed asset
    keys = _lambda_code_keys(py_template)
    assert len(keys) == 7 and len(set(keys)) == 7
    assert all(re.fullmatch(r"[0-9a-f]{64}\.zip", k) for k in keys)
    assert set(py_template["Outputs"]) == {"WebSocketUrl", "CallbackUrl", "SigningSecretArn"}


def test_python_assets_are_the_same_handler_bundles(assemblies):
    # GIVEN both cloud assemblies
    py_out, ts_out = assemblies
    py_assets = sorted(p.name for p in py_out.glob("asset.*"))
    ts_assets = sorted(p.name for p in ts_out.glob("asset.*"))
    # THEN they stage the same asset directories...
    assert py_assets == ts_assets and len(py_assets) == 7
    # ...with byte-identical handler bundles (the wheel ships the files the TypeScript app reads)
    for name in py_assets:
        cmp = filecmp.dircmp(py_out / name, ts_out / name)
        assert cmp.left_only == [] and cmp.right_only == [] and cmp.diff_files == [], name
        assert (py_out / name / "index.js").stat().st_size > 0


def test_synth_time_validation_reaches_python():
    # GIVEN a gateway built from Python with a stage name API Gateway refuses
    from aws_cdk import App, Stack
    from wsgate import WebSocketGateway

    stack = Stack(App(), "Invalid")
    # WHEN it is constructed THEN the construct's validation error reaches Python, naming the prop
    with pytest.raises(Exception, match=r"stageName"):
        WebSocketGateway(stack, "Gateway", issuer="iss", audience="aud", stage_name="not a stage!")


def test_enum_like_classes_and_props_cross_the_binding():
    # GIVEN a gateway with a header token source and a custom throttle, built from Python
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template
    from wsgate import TokenSource, WebSocketGateway

    stack = Stack(App(), "Props")
    WebSocketGateway(stack, "Gateway", issuer="iss", audience="aud", stage_name="dev",
                     token_source=TokenSource.header("Authorization"), throttling_rate_limit=50)
    # WHEN the stack is synthesized
    template = Template.from_stack(stack)
    # THEN the stage and the authorizer carry the Python values
    template.has_resource_properties("AWS::ApiGatewayV2::Stage", {
        "StageName": "dev",
        "DefaultRouteSettings": {"ThrottlingRateLimit": 50},
    })
    template.has_resource_properties("AWS::ApiGatewayV2::Authorizer", {
        "IdentitySource": ["route.request.header.Authorization"],
    })


def _readme_python_snippet():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Python"):]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README.md has no ```python block under ### Python"
    return blocks[0]


def test_readme_python_snippet_synthesizes(tmp_path):
    # GIVEN the README's Python snippet, run as a user's app.py in a fresh directory
    (tmp_path / "app.py").write_text(_readme_python_snippet())
    # WHEN it is run
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=_env(tmp_path / "cdk.out"),
                         capture_output=True, text=True)
    # THEN it synthesizes the Realtime stack with the snippet's routes and its own function wired in
    assert run.returncode == 0, run.stderr[-4000:]
    template = json.loads((tmp_path / "cdk.out" / "Realtime.template.json").read_text())
    route_keys = sorted(r["Properties"]["RouteKey"] for r in template["Resources"].values()
                        if r["Type"] == "AWS::ApiGatewayV2::Route")
    assert route_keys == ["$connect", "$default", "$disconnect", "join", "orders", "sendmessage"]
    authorizer = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Authorizer"]
    assert [a["Properties"]["IdentitySource"] for a in authorizer] == [["route.request.querystring.token"]]
    assert "Url" in template["Outputs"]
