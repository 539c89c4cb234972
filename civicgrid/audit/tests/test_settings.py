"""Keys come from the environment: production refuses to start without them (or with the
development ones); DEBUG off refuses too; DEBUG on uses fixed development keys."""

import base64
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "civicgrid.settings_production",
    "SECRET_KEY": "s" * 20 + "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5",
    "ALLOWED_HOSTS": "civicgrid.example.gov.cn",
    "CIVICGRID_DATA_KEYS": "k1:" + base64.b64encode(b"K" * 32).decode(),
    "CIVICGRID_BLIND_INDEX_KEY": base64.b64encode(b"B" * 32).decode(),
}
PRINT_KEY = "import django; django.setup(); from civicgrid.core import crypto; print(crypto.current_key_id())"


def run(env_extra, code=PRINT_KEY):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "CIVICGRID_TESTING", "CIVICGRID_DATA_KEYS",
                        "CIVICGRID_BLIND_INDEX_KEY"}}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_starts_with_keys_and_uses_the_first(tmp_path):
    result = run({**PRODUCTION, "CIVICGRID_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k1"


def test_production_refuses_missing_malformed_or_development_keys(tmp_path):
    from civicgrid.core import crypto

    base = {**PRODUCTION, "CIVICGRID_VAR_DIR": str(tmp_path)}
    cases = [
        ({k: v for k, v in base.items() if k != "CIVICGRID_DATA_KEYS"}, "CIVICGRID_DATA_KEYS and CIVICGRID_BLIND_INDEX_KEY must be set"),
        ({k: v for k, v in base.items() if k != "CIVICGRID_BLIND_INDEX_KEY"}, "must be set"),
        ({**base, "CIVICGRID_DATA_KEYS": "k1:c2hvcnQ="}, "AES-256 needs 32"),
        ({**base, "CIVICGRID_DATA_KEYS": ",".join(crypto.development_data_keys())}, "development"),
        ({**base, "CIVICGRID_BLIND_INDEX_KEY": crypto.development_blind_index_key()}, "development"),
    ]
    for env, message in cases:
        result = run(env)
        assert result.returncode != 0
        assert message in result.stderr, result.stderr[-500:]


def test_debug_off_refuses_missing_keys_and_debug_on_uses_the_development_key(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": str(tmp_path),
           "SECRET_KEY": PRODUCTION["SECRET_KEY"]}
    refused = run(env)
    assert refused.returncode != 0 and "CIVICGRID_DATA_KEYS and CIVICGRID_BLIND_INDEX_KEY must be set" in refused.stderr
    allowed = run({**env, "DEBUG": "1"})
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "dev"


def test_the_operator_commands_have_help(tmp_path):
    for command in ("rotate_data_key", "purge_access_log", "security_admin"):
        result = run({"DEBUG": "1", "CIVICGRID_VAR_DIR": str(tmp_path)},
                     code=f"import sys; sys.argv = ['civicgrid', '{command}', '--help']; "
                          "from civicgrid.cli import main; main()")
        assert f"usage: civicgrid {command}" in result.stdout, result.stderr
