"""The object format: round trip, and every alteration caught as an integrity error."""

from __future__ import annotations

import io
import os

import pytest

from code_engine.dr import format as fmt
from code_engine.dr.errors import IntegrityError, KeyProblemError
from code_engine.dr.keys import BackupKey, decode_key, generate_key_file, load_key

KEY = BackupKey(b"k" * 32)


def seal(data: bytes, context: str = "src/snap/data", key: BackupKey = KEY) -> bytes:
    out = io.BytesIO()
    writer = fmt.EncryptingWriter(out, key, context)
    for start in range(0, len(data), 100_000):
        writer.write(data[start : start + 100_000])
    writer.finish()
    return out.getvalue()


def open_(blob: bytes, context: str = "src/snap/data", key: BackupKey = KEY) -> bytes:
    return fmt.DecryptingReader(io.BytesIO(blob), key, context, "object").read()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "CHUNK", 4096)


def test_round_trip_of_many_chunks_compresses_and_hashes() -> None:
    data = os.urandom(20_000) + b"a" * 200_000
    out = io.BytesIO()
    writer = fmt.EncryptingWriter(out, KEY, "ctx")
    writer.write(data)
    digest = writer.finish()
    assert writer.raw_bytes == len(data) and writer.stored_bytes < len(data)
    reader = fmt.DecryptingReader(io.BytesIO(out.getvalue()), KEY, "ctx", "object")
    assert reader.read(10) + reader.read() == data
    assert reader.sha256 == digest and reader.done


def test_empty_object_round_trips() -> None:
    assert open_(seal(b"")) == b""


@pytest.mark.parametrize("where", [30, 500, -20])
def test_a_flipped_bit_fails_authentication(where: int) -> None:
    blob = bytearray(seal(os.urandom(50_000)))
    blob[where] ^= 0x01
    with pytest.raises(IntegrityError):
        open_(bytes(blob))


def test_truncated_object_is_caught_even_at_a_chunk_boundary() -> None:
    blob = seal(os.urandom(30_000))
    with pytest.raises(IntegrityError, match="truncated"):
        open_(blob[:-7])
    # cut after a whole chunk: the missing final flag is what gives it away
    reader = fmt.DecryptingReader(io.BytesIO(blob), KEY, "src/snap/data", "object")
    first_len = int.from_bytes(blob[20:24], "big") & 0x7FFFFFFF
    with pytest.raises(IntegrityError, match="truncated"):
        fmt.DecryptingReader(io.BytesIO(blob[: 24 + first_len]), KEY, "src/snap/data", "o").read()
    assert reader.read(1)


def test_bytes_after_the_end_are_caught() -> None:
    with pytest.raises(IntegrityError, match="after the last chunk"):
        open_(seal(b"hello") + b"x")


def test_an_object_of_another_snapshot_or_key_does_not_decrypt() -> None:
    blob = seal(b"payload")
    with pytest.raises(IntegrityError, match="authentication"):
        open_(blob, context="src/other/data")
    with pytest.raises(IntegrityError):
        open_(blob, key=BackupKey(b"x" * 32))
    with pytest.raises(IntegrityError, match="bad header"):
        open_(b"XXXX" + blob[4:])


def test_keys_from_env_or_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k"
    key = generate_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_key("", path) == key
    assert load_key(path.read_text(), None).id == key.id
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    with pytest.raises(KeyProblemError, match="no backup key"):
        load_key("", None)
    with pytest.raises(KeyProblemError, match="not found"):
        load_key("", tmp_path / "missing")
    with pytest.raises(KeyProblemError, match="not base64"):
        decode_key("!!!", "CODE_DR_KEY")
    with pytest.raises(KeyProblemError, match="32 bytes"):
        decode_key("YWJj", "CODE_DR_KEY")


class _Failing(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() > 0:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_a_failed_write_of_the_sealing_thread_reaches_the_caller() -> None:
    writer = fmt.EncryptingWriter(_Failing(), KEY, "ctx")
    with pytest.raises(OSError, match="No space"):
        for _ in range(50):
            writer.write(os.urandom(8192))
        writer.finish()
    writer.abort()


def test_a_reader_given_up_half_way_stops_reading_ahead() -> None:
    blob = seal(os.urandom(200_000))
    reader = fmt.DecryptingReader(io.BytesIO(blob), KEY, "src/snap/data", "object")
    assert len(reader.read(10)) == 10
    reader.close()
    assert not reader.done
