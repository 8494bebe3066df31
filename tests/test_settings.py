"""Settings: defaults, REGISTRY_* variables converted explicitly, overrides; failing fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import create_app
from registry.settings import Settings, SettingsError


def test_defaults_put_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"REGISTRY_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'registry.db'}"
    assert settings.public_url == "https://registry.example.cn"
    assert settings.log_origin == "registry.example.cn/log"
    assert settings.checkpoint_interval == 1.0


def test_environment_values_are_converted() -> None:
    settings = Settings.from_env(
        {
            "REGISTRY_DATABASE_URL": "postgresql+psycopg://registry@db/registry",
            "REGISTRY_PUBLIC_URL": "https://zs.example.cn",
            "REGISTRY_MAX_BATCH": "250",
            "REGISTRY_CHECKPOINT_INTERVAL": "0.5",
            "REGISTRY_KEYS_PATH": "/etc/registry/keys",
        }
    )
    assert settings.max_batch == 250
    assert settings.checkpoint_interval == 0.5
    assert settings.keys_path == Path("/etc/registry/keys")
    assert settings.log_origin == "zs.example.cn/log"


def test_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env({"REGISTRY_MAX_BATCH": "250"}, {"max_batch": 10})
    assert settings.max_batch == 10


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"REGISTRY_MAX_BATCH": "many"}, "REGISTRY_MAX_BATCH"),
        ({"REGISTRY_MAX_BATCH": "0"}, "REGISTRY_MAX_BATCH"),
        ({"REGISTRY_CHECKPOINT_INTERVAL": "-1"}, "REGISTRY_CHECKPOINT_INTERVAL"),
        ({"REGISTRY_PUBLIC_URL": "registry.example.cn"}, "REGISTRY_PUBLIC_URL"),
        ({"REGISTRY_PUBLIC_URL": "https://registry.example.cn/app"}, "REGISTRY_PUBLIC_URL"),
        # QR codes must fit version 10-M, which bounds the URL they carry.
        ({"REGISTRY_PUBLIC_URL": "https://certificates.registry.example.cn"}, "28 characters"),
        ({"REGISTRY_TRUSTED_PROXIES": "-1"}, "REGISTRY_TRUSTED_PROXIES"),
        ({"REGISTRY_MAX_BODY_BYTES": "-5"}, "REGISTRY_MAX_BODY_BYTES"),
        ({"REGISTRY_MAX_BODY_BYTES": "0"}, "REGISTRY_MAX_BODY_BYTES"),
        ({"REGISTRY_DATABASE_URL": "nonsense"}, "REGISTRY_DATABASE_URL"),
        ({"REGISTRY_DATABASE_URL": "mysql://registry@db/registry"}, "REGISTRY_DATABASE_URL"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)


def test_a_bad_database_url_is_named_without_its_password() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"REGISTRY_DATABASE_URL": "oracle://registry:s3cret@db/registry"})
    assert "REGISTRY_DATABASE_URL" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(SettingsError) as unparsed:
        Settings.from_env({"REGISTRY_DATABASE_URL": "postgres ql://registry:s3cret@db"})
    assert "s3cret" not in str(unparsed.value)


def test_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings.from_env({}, {"databse_url": "sqlite://"})


def test_the_factory_fails_fast_without_a_log_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="registry init"):
        create_app({"instance_path": tmp_path, "keys_path": tmp_path / "nokeys"}, environ={})


def test_the_factory_fails_fast_without_the_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install that left templates/ behind (``pip install .`` rather than ``-e .``) is
    refused at start-up, not with a TemplateNotFound on every page."""
    import registry.app

    monkeypatch.setattr(registry.app, "TEMPLATES", tmp_path / "site-packages" / "templates")
    with pytest.raises(SettingsError, match="pip install -e"):
        create_app({"instance_path": tmp_path, "keys_path": tmp_path / "nokeys"}, environ={})
