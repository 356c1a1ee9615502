"""Kaggle Digit Recognizer CSVs: round trips, and malformed files named by file and line."""

import numpy as np
import pytest

from autograder.kaggle import KaggleFormatError, load_kaggle_csv, write_kaggle_submission

PIXELS = ",".join(f"pixel{i}" for i in range(784))
TRAIN_HEADER, TEST_HEADER = f"label,{PIXELS}", PIXELS


def make_data(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def csv_lines(images, labels=None):
    rows = images.reshape(len(images), -1).astype(int)
    if labels is not None:
        rows = np.column_stack([labels, rows])
    return [",".join(map(str, row)) for row in rows]


def write(path, header, lines, newline="\n", prefix=""):
    path.write_bytes((prefix + newline.join([header, *lines]) + newline).encode())
    return path


def error_of(path):
    with pytest.raises(KaggleFormatError) as info:
        load_kaggle_csv(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_train_round_trip(tmp_path):
    images, labels = make_data()
    got_images, got_labels = load_kaggle_csv(write(tmp_path / "train.csv", TRAIN_HEADER,
                                                   csv_lines(images, labels)))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    assert got_labels.dtype == np.int64 and got_labels.shape == (5,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_test_csv_has_no_labels(tmp_path):
    images, _ = make_data(3)
    got_images, got_labels = load_kaggle_csv(write(tmp_path / "test.csv", TEST_HEADER,
                                                   csv_lines(images)))
    assert got_labels is None
    np.testing.assert_array_equal(got_images, images)


def test_windows_newlines_bom_and_blank_lines(tmp_path):
    images, labels = make_data(2)
    lines = csv_lines(images, labels)
    path = write(tmp_path / "train.csv", TRAIN_HEADER, [lines[0], "", lines[1]], newline="\r\n",
                 prefix="\ufeff")
    got_images, got_labels = load_kaggle_csv(path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_header_only_gives_empty_arrays(tmp_path):
    images, labels = load_kaggle_csv(write(tmp_path / "train.csv", TRAIN_HEADER, []))
    assert images.shape == (0, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (0,) and labels.dtype == np.int64


@pytest.mark.parametrize("header, words", [
    ("", ["line 1", "empty"]),
    (TRAIN_HEADER.replace("pixel3,", "pixel3x,"), ["line 1", "column 5", "'pixel3x'", "'pixel3'"]),
    (TRAIN_HEADER.replace(",pixel783", ""), ["line 1", "784 columns, expected 785"]),
    ("id," + PIXELS, ["line 1", "column 1", "'id'"]),
])
def test_bad_header(tmp_path, header, words):
    message = error_of(write(tmp_path / "train.csv", header, []))
    for word in words:
        assert word in message


def bad_train(tmp_path, row, replace):
    """A five-row train.csv whose data row `row` (0-based; file line row + 2) is edited."""
    images, labels = make_data()
    lines = csv_lines(images, labels)
    lines[row] = replace(lines[row])
    return write(tmp_path / "train.csv", TRAIN_HEADER, lines)


@pytest.mark.parametrize("row, replace, words", [
    (2, lambda line: line.rsplit(",", 1)[0], ["line 4", "784 values, expected 785"]),
    (0, lambda line: line + ",0", ["line 2", "786 values"]),
    (3, lambda line: "10" + line[line.index(","):], ["line 5", "label is 10", "0..9"]),
    (1, lambda line: "-1" + line[line.index(","):], ["line 3", "label is -1"]),
    (4, lambda line: line[: line.index(",")] + ",256" + line[line.index(",", 2):],
     ["line 6", "pixel0 is 256", "0..255"]),
    (2, lambda line: line.rsplit(",", 1)[0] + ",70000", ["line 4", "pixel783 is 70000"]),
    (1, lambda line: line.rsplit(",", 1)[0] + ",12.5", ["line 3", "pixel783 is '12.5'"]),
    (0, lambda line: line.rsplit(",", 1)[0] + ",abc", ["line 2", "'abc'"]),
    (3, lambda line: line.rsplit(",", 1)[0] + ",", ["line 5", "pixel783 is ''"]),
])
def test_bad_rows_name_the_line(tmp_path, row, replace, words):
    message = error_of(bad_train(tmp_path, row, replace))
    for word in words:
        assert word in message


def test_line_numbers_count_blank_lines(tmp_path):
    images, labels = make_data(2)
    lines = csv_lines(images, labels)
    lines[1] = lines[1] + ",0"
    path = write(tmp_path / "train.csv", TRAIN_HEADER, [lines[0], "", "", lines[1]])
    assert "line 5" in error_of(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_kaggle_csv(tmp_path / "nope.csv")


def test_submission_round_trip(tmp_path):
    path = write_kaggle_submission(np.array([7, 2, 1, 0]), tmp_path / "submission.csv")
    assert path.read_text() == "ImageId,Label\n1,7\n2,2\n3,1\n4,0\n"
    write_kaggle_submission([3.0, 9.0], tmp_path / "floats.csv")  # integral floats are fine
    assert (tmp_path / "floats.csv").read_text() == "ImageId,Label\n1,3\n2,9\n"


def test_submission_from_loaded_test_csv(tmp_path):
    images, _ = make_data(4)
    test_images, _ = load_kaggle_csv(write(tmp_path / "test.csv", TEST_HEADER, csv_lines(images)))
    predictions = test_images.reshape(4, -1).sum(axis=1) % 10
    out = write_kaggle_submission(predictions, tmp_path / "submission.csv")
    ids, labels = np.loadtxt(out, delimiter=",", skiprows=1, dtype=np.int64, unpack=True)
    assert ids.tolist() == [1, 2, 3, 4] and labels.tolist() == predictions.tolist()


@pytest.mark.parametrize("predictions, words", [
    (np.zeros((3, 10)), ["shape (N,)", "argmax"]),
    (np.array([1, 10, 2]), ["ImageId 2", "is 10"]),
    (np.array([0.5, 1.0]), ["integer classes"]),
])
def test_bad_submission(tmp_path, predictions, words):
    with pytest.raises(KaggleFormatError) as info:
        write_kaggle_submission(predictions, tmp_path / "submission.csv")
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / "submission.csv").exists()


def test_binary_file(tmp_path):
    path = tmp_path / "train.csv.zip"
    path.write_bytes(b"PK\x03\x04\xff\xfe\x00binary")
    assert "not a UTF-8 text CSV" in error_of(path)
