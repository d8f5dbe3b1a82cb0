"""builder.engine.podman: typed build parameters become the API's query parameters only here."""

from __future__ import annotations

import json

from builder.engine.podman import encode_build_params


def test_mappings_and_lists_become_json_where_the_api_reads_json() -> None:
    encoded = encode_build_params(
        {
            "buildargs": {"A": "1", "B": "two words"},
            "secrets": ["id=npmrc,src=.imgctl-x.secret.npmrc"],
            "excludes": [],
            "labels": {"k": "v"},
            "t": ["a:1", "a:2"],
            "layers": "true",
            "nocache": False,
        }
    )
    assert json.loads(encoded["buildargs"]) == {"A": "1", "B": "two words"}  # type: ignore[arg-type]
    assert encoded["secrets"] == '["id=npmrc,src=.imgctl-x.secret.npmrc"]'
    assert encoded["excludes"] == "[]"
    assert encoded["labels"] == '{"k": "v"}'
    assert encoded["t"] == ["a:1", "a:2"]  # a repeated parameter
    assert encoded["layers"] == "true" and encoded["nocache"] == "false"


def test_values_already_encoded_pass_unchanged() -> None:
    assert encode_build_params({"buildargs": '{"A": "1"}', "excludes": "[]"}) == {
        "buildargs": '{"A": "1"}',
        "excludes": "[]",
    }


def test_the_top_level_imports_no_podman_py() -> None:
    import subprocess
    import sys

    code = "import sys, builder.engine.podman, builder.engine.service; print('podman' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_attach_stream_loses_its_frame_headers_and_plain_text_passes() -> None:
    from builder.engine.podman import _demultiplex

    framed = b"\x01\x00\x00\x00\x00\x00\x00\x03out" + b"\x02\x00\x00\x00\x00\x00\x00\x05 err\n"
    assert _demultiplex(framed) == "out err\n"
    assert _demultiplex(b"touch: /x: Permission denied\n") == "touch: /x: Permission denied\n"
    assert _demultiplex(b"") == ""


def test_an_engine_loads_podman_py_without_its_package_init_which_still_runs_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from builder.engine.podman import Endpoint, PodmanEngine\n"
        "engine = PodmanEngine(Endpoint('unix:///nowhere/podman.sock', 'test'))\n"
        "print('podman.client' in sys.modules, any(name.startswith('rich') for name in sys.modules))\n"
        "import podman\n"
        "print(podman.PodmanClient.__name__, type(engine._api) is podman.api.client.APIClient,"
        " engine._api_error is podman.errors.APIError)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["False False", "PodmanClient True True"]
