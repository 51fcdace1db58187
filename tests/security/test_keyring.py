"""Keyring: states, file (0600, atomic) and environment forms, envelope encryption with a local provider."""

from __future__ import annotations

import json
import os
import stat

import pytest

from custdata.exceptions import DecryptionError, ValidationError
from custdata.security import FieldEncryptor, KeyProvider, Keyring, KeyState, LocalKeyProvider


def test_generate_has_one_active_key():
    ring = Keyring.generate()
    assert len(ring.key_ids) == 1
    assert ring.state(ring.active_id) is KeyState.ACTIVE


def test_add_promote_retire_destroy():
    ring = Keyring.generate()
    first = ring.active_id
    second = ring.add()
    assert ring.state(second) is KeyState.DECRYPT_ONLY and ring.key_ids == [first, second]
    ring.promote(second)
    assert ring.state(first) is KeyState.DECRYPT_ONLY and ring.active_id == second
    with pytest.raises(ValidationError, match="active"):
        ring.retire(second)
    with pytest.raises(ValidationError, match="active"):
        ring.destroy(second)
    ring.retire(first)
    with pytest.raises(ValidationError, match="retired"):
        ring.promote(first)
    ring.destroy(first)
    assert ring.state(first) is KeyState.DESTROYED
    with pytest.raises(ValidationError, match="no key"):
        ring.promote("nope")
    with pytest.raises(ValidationError, match="already"):
        ring.add(key_id=second)
    with pytest.raises(ValidationError):
        ring.add(key_id="bad id!")
    with pytest.raises(ValidationError):
        ring.add(b"short")


def test_key_material_stays_out_of_reprs():
    ring = Keyring.generate()
    material = ring.material(ring.active_id)
    text = repr(ring) + repr(list(ring.keys()))
    assert material.hex() not in text and repr(material) not in text


def test_save_load_round_trip_0600_and_atomic(tmp_path):
    ring = Keyring.generate()
    ring.add()
    path = tmp_path / "keys.json"
    ring.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["keys.json"]  # no temporary file left behind
    back = Keyring.load(path)
    assert back.key_ids == ring.key_ids and back.active_id == ring.active_id
    token = FieldEncryptor(ring).encrypt("v", record_id="r", field="f")
    assert FieldEncryptor(back).decrypt(token, record_id="r", field="f") == "v"
    assert back.index_key == ring.index_key


def test_destroyed_keys_are_saved_without_material(tmp_path):
    ring = Keyring.generate()
    old = ring.active_id
    ring.promote(ring.add())
    ring.destroy(old)
    path = tmp_path / "k.json"
    ring.save(path)
    doc = json.loads(path.read_text())
    assert [k["material"] for k in doc["keys"] if k["id"] == old] == [None]
    assert Keyring.load(path).state(old) is KeyState.DESTROYED


def test_from_env(monkeypatch):
    ring = Keyring.generate()
    monkeypatch.setenv("CUSTDATA_KEYRING", ring.to_json())
    assert Keyring.from_env().active_id == ring.active_id
    monkeypatch.delenv("CUSTDATA_KEYRING")
    with pytest.raises(ValidationError, match="not set"):
        Keyring.from_env()


def test_envelope_with_a_local_provider(tmp_path):
    master = LocalKeyProvider.generate_master_key()
    provider = LocalKeyProvider(master)
    assert isinstance(provider, KeyProvider)
    ring = Keyring.generate()
    path = tmp_path / "k.json"
    ring.save(path, provider=provider)
    text = path.read_text()
    material = ring.material(ring.active_id)
    import base64

    assert base64.urlsafe_b64encode(material).decode() not in text
    assert Keyring.load(path, provider=provider).material(ring.active_id) == material
    with pytest.raises(ValidationError, match="provider"):
        Keyring.load(path)
    with pytest.raises(DecryptionError):
        Keyring.load(path, provider=LocalKeyProvider(LocalKeyProvider.generate_master_key()))
    with pytest.raises(ValidationError):
        Keyring.load(tmp_path / "k2.json", provider=provider)  # no such file
    with pytest.raises(ValidationError):
        LocalKeyProvider(b"short")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": 2}',
        '{"format": 1}',
        '{"format": 1, "index_key": "AAAA", "keys": []}',
        '{"format": 1, "index_key": "'
        + "A" * 44
        + '", "keys": [{"id": "k", "state": "odd", "created_at": "x"}]}',
    ],
)
def test_bad_keyring_text_is_a_validation_error(text):
    with pytest.raises(ValidationError):
        Keyring.from_json(text)


def test_two_active_keys_are_refused():
    ring = Keyring.generate()
    doc = json.loads(ring.to_json())
    doc["keys"].append({**doc["keys"][0], "id": "other"})
    with pytest.raises(ValidationError, match="one active"):
        Keyring.from_json(json.dumps(doc))
