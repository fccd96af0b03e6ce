"""Settings: precedence of command line, environment, XDG config file and defaults; every ConfigError."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nimify_tui.config import (
    ConfigError,
    ContextPolicy,
    RefreshIntervals,
    Settings,
    default_config_path,
    load_settings,
)

FULL_CONFIG = """
kubeconfig = "~/clusters/prod.yaml"
context = "prod-eu"
namespace = "nimify-system"
watched_namespaces = ["nimify-system", "monitoring"]
readonly = false
record_dir = "/srv/incidents"
prometheus_url = "http://prometheus.monitoring:9090/"
triton_url = "http://triton.example:8000"
nimify_api_url = "https://api.nimify.example"
dcgm_url = "http://dcgm.example:9400"

[refresh]
triton = 1
probes = 1.5
metrics = 10
gpu = 3

[contexts."prod-eu"]
readonly = true
production = true

[contexts."staging"]
production = false
"""


def write_config(directory: Path, text: str) -> Path:
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_configured(tmp_path: Path) -> None:
    settings = load_settings({}, {"HOME": str(tmp_path)}, None)
    assert settings == Settings()
    assert settings.namespace == "nimify-system"
    assert settings.watched_namespaces == ("nimify-system", "triton-system", "monitoring", "ingress-nginx")
    assert settings.refresh == RefreshIntervals(triton=2.0, probes=2.0, metrics=5.0, gpu=5.0)
    assert (settings.prometheus_url, settings.triton_url, settings.nimify_api_url, settings.dcgm_url) == (
        None,
        None,
        None,
        None,
    )


def test_every_key_of_the_config_file_is_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings({}, {"HOME": str(home)}, write_config(tmp_path, FULL_CONFIG))
    assert settings.kubeconfig == Path("~/clusters/prod.yaml").expanduser()
    assert settings.context == "prod-eu"
    assert settings.watched_namespaces == ("nimify-system", "monitoring")
    assert settings.readonly is False
    assert settings.record_dir == Path("/srv/incidents")
    assert settings.prometheus_url == "http://prometheus.monitoring:9090"
    assert settings.triton_url == "http://triton.example:8000"
    assert settings.nimify_api_url == "https://api.nimify.example"
    assert settings.dcgm_url == "http://dcgm.example:9400"
    assert settings.refresh == RefreshIntervals(triton=1.0, probes=1.5, metrics=10.0, gpu=3.0)
    assert settings.contexts == {
        "prod-eu": ContextPolicy(readonly=True, production=True),
        "staging": ContextPolicy(readonly=False, production=False),
    }


def test_command_line_beats_environment_beats_file_beats_defaults(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        'namespace = "from-file"\ncontext = "file-ctx"\nprometheus_url = "http://file:9090"\n'
        "[refresh]\ntriton = 7\nprobes = 8\n",
    )
    env = {
        "NIMIFY_TUI_NAMESPACE": "from-env",
        "NIMIFY_TUI_CONTEXT": "env-ctx",
        "NIMIFY_TUI_REFRESH_PROBES": "0.5",
        "NIMIFY_TUI_READONLY": "yes",
    }
    cli: dict[str, object] = {"namespace": "from-cli", "context": None, "readonly": None, "refresh_triton": 4}
    settings = load_settings(cli, env, config)
    assert settings.namespace == "from-cli"  # all three: the command line wins
    assert settings.context == "env-ctx"  # file and environment; None on the command line means not given
    assert settings.prometheus_url == "http://file:9090"  # the file alone
    assert settings.refresh == RefreshIntervals(triton=4.0, probes=0.5, metrics=5.0, gpu=5.0)
    assert settings.readonly is True
    assert (
        load_settings({}, {"NIMIFY_TUI_READONLY": "off"}, write_config(tmp_path, "readonly = true")).readonly is False
    )


def test_config_file_is_found_under_xdg_config_home_or_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "nimify-tui").mkdir(parents=True)
    write_config(xdg / "nimify-tui", 'namespace = "from-xdg"')
    home = tmp_path / "home"
    (home / ".config" / "nimify-tui").mkdir(parents=True)
    write_config(home / ".config" / "nimify-tui", 'namespace = "from-home"')

    assert default_config_path({"XDG_CONFIG_HOME": str(xdg)}) == xdg / "nimify-tui" / "config.toml"
    assert load_settings({}, {"XDG_CONFIG_HOME": str(xdg), "HOME": str(home)}, None).namespace == "from-xdg"
    assert load_settings({}, {"HOME": str(home)}, None).namespace == "from-home"
    relative_xdg = {"XDG_CONFIG_HOME": "relative", "HOME": str(home)}  # the XDG spec says: ignore it
    assert load_settings({}, relative_xdg, None).namespace == "from-home"


def test_environment_values_are_parsed_from_text(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "NIMIFY_TUI_WATCHED_NAMESPACES": " monitoring, triton-system ,,monitoring",
        "NIMIFY_TUI_READONLY": "TRUE",
        "NIMIFY_TUI_KUBECONFIG": "~/kube/config",
        "NIMIFY_TUI_RECORD_DIR": str(tmp_path / "rec"),
        "NIMIFY_TUI_DCGM_URL": "http://localhost:9400/",
        "NIMIFY_TUI_REFRESH_GPU": "2.5",
        "NIMIFY_TUI_CONTEXT": "",  # empty means unset
        "NIMIFY_TUI_SOMETHING_ELSE": "belongs to another part",
    }
    settings = load_settings({}, env, None)
    assert settings.watched_namespaces == ("nimify-system", "monitoring", "triton-system")
    assert settings.readonly is True
    assert settings.kubeconfig == Path("~/kube/config").expanduser()
    assert settings.record_dir == tmp_path / "rec"
    assert settings.dcgm_url == "http://localhost:9400"
    assert settings.refresh.gpu == 2.5
    assert settings.context is None


def test_command_line_values_accept_paths_and_sequences(tmp_path: Path) -> None:
    cli: dict[str, object] = {
        "kubeconfig": tmp_path / "kc",
        "record_dir": str(tmp_path / "rec"),
        "watched_namespaces": ["a", "b"],
        "namespace": "b",
        "readonly": True,
        "triton_url": "http://127.0.0.1:8000",
    }
    settings = load_settings(cli, {"HOME": str(tmp_path)}, None)
    assert settings.kubeconfig == tmp_path / "kc"
    assert settings.record_dir == tmp_path / "rec"
    assert settings.watched_namespaces == ("a", "b")
    assert settings.readonly is True
    assert settings.triton_url == "http://127.0.0.1:8000"


def test_the_namespace_is_always_watched(tmp_path: Path) -> None:
    settings = load_settings({"namespace": "inference"}, {"HOME": str(tmp_path)}, None)
    assert settings.watched_namespaces == (
        "inference",
        "nimify-system",
        "triton-system",
        "monitoring",
        "ingress-nginx",
    )


def test_context_policy_per_context_and_global_readonly(tmp_path: Path) -> None:
    config = write_config(tmp_path, FULL_CONFIG)
    env = {"HOME": str(tmp_path)}
    settings = load_settings({}, env, config)
    assert settings.context_policy("prod-eu") == ContextPolicy(readonly=True, production=True)
    assert settings.context_policy("staging") == ContextPolicy(readonly=False, production=False)
    assert settings.context_policy("kind-dev") == ContextPolicy(readonly=False, production=False)
    assert settings.context_policy(None) == ContextPolicy(readonly=False, production=False)

    forced = load_settings({"readonly": True}, env, config)
    assert forced.context_policy("staging") == ContextPolicy(readonly=True, production=False)
    assert forced.context_policy("kind-dev").readonly is True
    assert forced.context_policy(None).readonly is True
    assert forced.context_policy("prod-eu") == ContextPolicy(readonly=True, production=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("namespace = \n", r"invalid TOML: Invalid value \(at line 1, column 13\)"),
        ('namespace = "a"\nnamespace = "b"\n', r"invalid TOML: Cannot overwrite a value \(at line 2"),
        ("namespace = 5", r"key 'namespace': expected a namespace name .*, got 5$"),
        (
            'namespace = "Nimify_System"',
            r"key 'namespace': expected a namespace name .*, got 'Nimify_System'",
        ),
        (
            'watched_namespaces = "monitoring"',
            r"key 'watched_namespaces': expected a non-empty list .*got 'monitoring'",
        ),
        (
            "watched_namespaces = []",
            r"key 'watched_namespaces': expected a non-empty list of namespace names",
        ),
        ('watched_namespaces = ["ok", 3]', r"key 'watched_namespaces': expected .*, got a list"),
        ('readonly = "yes"', r"key 'readonly': expected true or false, got 'yes'"),
        ("kubeconfig = 1", r"key 'kubeconfig': expected a file path, got 1"),
        ('context = ""', r"key 'context': expected a non-empty string, got ''"),
        ('prometheus_url = "prometheus:9090"', r"key 'prometheus_url': expected an http:// or https:// URL"),
        ('dcgm_url = "http://"', r"key 'dcgm_url': expected an http:// or https:// URL, got 'http://'"),
        ('triton_url = "http://triton:http"', r"key 'triton_url': expected an http:// or https:// URL"),
        ('nimify_api_url = "http://[::1"', r"key 'nimify_api_url': expected an http:// or https:// URL"),
        ("refresh = 5", r"key 'refresh': expected a table, got 5"),
        ("[refresh]\ntriton = 0", r"key 'refresh.triton': expected a positive number of seconds, got 0"),
        (
            "[refresh]\nprobes = true",
            r"key 'refresh.probes': expected a positive number of seconds, got true",
        ),
        ('[refresh]\ngpu = "fast"', r"key 'refresh.gpu': expected a positive number of seconds, got 'fast'"),
        (
            "[refresh]\nmetrics = nan",
            r"key 'refresh.metrics': expected a positive number of seconds, got nan",
        ),
        ('namespcae = "x"', r"unknown key 'namespcae'; did you mean 'namespace'\?"),
        ("[refresh]\ntritn = 1", r"unknown key 'refresh.tritn'; did you mean 'refresh.triton'\?"),
        ("colour_scheme = 1", r"unknown key 'colour_scheme'$"),
        ("contexts = 1", r"key 'contexts': expected a table, got 1"),
        ("[contexts]\nprod = 1", r"""key 'contexts."prod"': expected a table, got 1"""),
        (
            '[contexts."prod"]\nreadnly = true',
            r"""unknown key 'contexts."prod".readnly'; did you mean 'contexts."prod".readonly'\?""",
        ),
        (
            '[contexts."prod"]\nproduction = "yes"',
            r"""key 'contexts."prod".production': expected true or false""",
        ),
    ],
)
def test_config_file_errors_name_file_key_and_expectation(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {"HOME": str(tmp_path)}, path)
    error = str(caught.value)
    assert "\n" not in error
    assert error.startswith(f"{path}: ")
    assert re.search(message, error), error


def test_config_file_that_is_not_utf8_or_not_readable(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'namespace = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match=r"config.toml: invalid TOML: "):
        load_settings({}, {}, path)
    with pytest.raises(ConfigError, match=r"missing.toml: cannot read the config file: No such file"):
        load_settings({}, {}, tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r": cannot read the config file: Is a directory"):
        load_settings({}, {}, tmp_path)


def test_a_broken_default_config_file_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / "nimify-tui").mkdir()
    write_config(tmp_path / "nimify-tui", "readonly = maybe")
    with pytest.raises(ConfigError, match=r"nimify-tui/config.toml: invalid TOML"):
        load_settings({}, {"XDG_CONFIG_HOME": str(tmp_path)}, None)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NIMIFY_TUI_READONLY", "maybe", "expected true/false, 1/0, yes/no or on/off, got 'maybe'"),
        ("NIMIFY_TUI_REFRESH_GPU", "-1", "expected a positive number of seconds, got '-1'"),
        ("NIMIFY_TUI_REFRESH_TRITON", "soon", "expected a positive number of seconds, got 'soon'"),
        ("NIMIFY_TUI_WATCHED_NAMESPACES", ",,", "expected comma-separated namespace names, got ',,'"),
        ("NIMIFY_TUI_WATCHED_NAMESPACES", "a,B", "expected comma-separated namespace names, got 'a,B'"),
        ("NIMIFY_TUI_TRITON_URL", "ftp://triton", "expected an http:// or https:// URL, got 'ftp://triton'"),
        ("NIMIFY_TUI_NAMESPACE", "-bad", "expected a namespace name"),
    ],
)
def test_environment_errors_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {"HOME": str(tmp_path), name: value}, None)
    assert str(caught.value).startswith(f"environment variable {name}: {message}")


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"namespace": "Bad"}, r"^option --namespace: expected a namespace name .*, got 'Bad'$"),
        ({"refresh_triton": -1}, r"^option --refresh-triton: expected a positive number of seconds, got -1$"),
        ({"readonly": "yes"}, r"^option --readonly: expected true or false, got 'yes'$"),
        ({"watched_namespaces": "a,b"}, r"^option --watched-namespaces: expected a non-empty list"),
        ({"refresh.triton": 1}, r"^unknown command-line setting 'refresh.triton'$"),
        ({"verbose": True}, r"^unknown command-line setting 'verbose'$"),
    ],
)
def test_command_line_errors_name_the_option(tmp_path: Path, cli: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(cli, {"HOME": str(tmp_path)}, None)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({}, {"HOME": str(tmp_path)}, write_config(tmp_path, FULL_CONFIG))
    with pytest.raises(AttributeError):
        settings.readonly = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.contexts["new"] = ContextPolicy()  # type: ignore[index]
