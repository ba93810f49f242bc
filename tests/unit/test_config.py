"""Configuration: precedence, coercion, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rayguild.config import load_config
from rayguild.errors import ConfigError


def test_defaults_are_the_single_node_embedded_setup() -> None:
    config = load_config(environ={})
    assert (config.host, config.port, config.storage) == ("127.0.0.1", 8080, "sqlite")
    assert config.api_url == "http://127.0.0.1:8080/api/v10"


def test_file_then_env_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "rayguild.toml"
    path.write_text('port = 9000\nstorage = "scylla"\nscylla_hosts = ["10.0.0.1", "10.0.0.2"]\n')
    config = load_config(path, environ={"RAYGUILD_PORT": "9100", "RAYGUILD_LOG_JSON": "false"}, port=9200)
    assert config.port == 9200
    assert config.storage == "scylla"
    assert config.scylla_hosts == ("10.0.0.1", "10.0.0.2")
    assert config.log_json is False


def test_config_is_frozen() -> None:
    config = load_config(environ={})
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAYGUILD_STORAGE": "mysql"}, "storage='mysql' is not allowed"),
        ({"RAYGUILD_PORT": "eighty"}, "port='eighty' is not a valid int"),
        ({"RAYGUILD_PORT": "70000"}, "port=70000 must be a port number"),
        ({"RAYGUILD_GUILD_SHARDS": "0"}, "guild_shards=0 must be greater than 0"),
        ({"RAYGUILD_LOG_JSON": "maybe"}, "log_json='maybe' is not a valid bool"),
        ({"RAYGUILD_NO_SUCH_KEY": "1"}, "unknown configuration key(s) ['no_such_key']"),
    ],
)
def test_invalid_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ=env)
    assert message in str(err.value)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})
