"""The live sources' shared threads: bounded however many runs are asked for at once, every
run done, a job that raises does not take its thread down."""

from __future__ import annotations

import threading

from console.ui.live.pool import LivePool


def test_many_runs_share_a_bounded_set_of_threads():
    pool = LivePool(max_threads=4, name="t-live")
    release = threading.Event()
    started = threading.Semaphore(0)
    done: list[int] = []
    lock = threading.Lock()

    def job(i: int):
        def run():
            started.release()
            release.wait(10)
            with lock:
                done.append(i)
        return run

    for i in range(120):
        pool.submit(job(i))
    for _ in range(4):                       # four run at once; the rest wait in the queue
        assert started.acquire(timeout=5)
    assert not started.acquire(timeout=0.2)
    assert pool.threads == 4
    release.set()
    for _ in range(116):
        assert started.acquire(timeout=5)
    deadline = threading.Event()
    for _ in range(100):
        with lock:
            if len(done) == 120:
                break
        deadline.wait(0.05)
    assert sorted(done) == list(range(120))
    assert pool.threads == 4


def test_an_idle_thread_is_reused_and_a_raising_job_does_not_kill_it():
    pool = LivePool(max_threads=4, name="t-live2")
    ran = threading.Event()

    def boom():
        raise RuntimeError("x")

    pool.submit(boom)
    seen: list[str] = []
    for _ in range(5):
        ran.clear()
        pool.submit(lambda: (seen.append(threading.current_thread().name), ran.set()))
        assert ran.wait(5)
    assert pool.threads <= 2
    assert all(n.startswith("t-live2-") for n in seen)
