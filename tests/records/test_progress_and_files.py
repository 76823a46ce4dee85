"""records: progress bars that store one line, atomic directories, sha256 records."""
import pytest

from synthrepro.records import StaleArtifactError, write_atomic_dir
from synthrepro.records.files import check_files, file_records
from synthrepro.records.progress import MODE_VARIABLE, FinalLine, progress


def test_stored_progress_is_one_line_per_bar(monkeypatch, capsys):
    monkeypatch.setenv(MODE_VARIABLE, "final")
    bar = progress(total=5, desc="train", unit="step")
    assert isinstance(bar, FinalLine)
    for _ in range(5):
        bar.update(1)
        bar.set_postfix(loss="1.000")
    bar.close()
    bar.close()  # closing twice prints once
    assert list(progress(range(3), desc="eval", unit="arm")) == [0, 1, 2]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("train: 5/5 steps in") and "loss=1.000" in err[0]
    assert err[1].startswith("eval: 3/3 arms in")


def test_atomic_dir_and_file_records(tmp_path):
    def write(d):
        (d / "a.txt").write_text("hello")
    out = write_atomic_dir(tmp_path / "x", write)
    records = file_records(out)
    check_files(out, records, out)
    (out / "a.txt").write_text("hellO")
    with pytest.raises(StaleArtifactError, match="does not have the recorded sha256"):
        check_files(out, records, out)
    with pytest.raises(RuntimeError):
        write_atomic_dir(tmp_path / "y", lambda d: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not (tmp_path / "y").exists() and not list(tmp_path.glob(".y.*"))  # nothing half-written
