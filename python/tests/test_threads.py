"""run() releases the GIL: Python threads run one Session (or several) concurrently."""
import threading

import numpy as np

import kiln
from conftest import close


def _run_in_threads(work, count):
    errors, threads = [], []

    def guarded(i):
        try:
            work(i)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    for i in range(count):
        threads.append(threading.Thread(target=guarded, args=(i,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors


def test_two_threads_share_one_session(deep):
    session = kiln.Session(deep.path, threads=1)
    inputs = [np.random.default_rng(i).standard_normal((64, 256)).astype(np.float32)
              for i in range(2)]
    expected = [deep.reference(x) for x in inputs]
    results = [[], []]

    def work(i):
        for _ in range(10):
            results[i].append(session.run({"x": inputs[i]})["y"])

    _run_in_threads(work, 2)
    for i in range(2):
        assert len(results[i]) == 10
        for y in results[i]:
            np.testing.assert_allclose(y, expected[i], rtol=1e-4, atol=1e-4)


def test_threads_with_their_own_sessions_and_batch_sizes(deep):
    sessions = [kiln.Session(deep.path, threads=1) for _ in range(3)]

    def work(i):
        x = np.random.default_rng(10 + i).standard_normal((1 + 7 * i, 256)).astype(np.float32)
        for _ in range(3):
            np.testing.assert_allclose(sessions[i].run({"x": x})["y"], deep.reference(x),
                                       rtol=1e-4, atol=1e-4)

    _run_in_threads(work, 3)


def test_sessions_open_concurrently(mlp):
    sessions = [None] * 3

    def work(i):
        sessions[i] = kiln.Session(mlp.path)

    _run_in_threads(work, 3)
    x = np.ones((1, 4), np.float32)
    for session in sessions:
        close(session.run({"x": x})["y"], mlp.reference(x))
